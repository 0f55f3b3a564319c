import type { JsonValue } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { Job } from "../../gen/jobs/v1/job_pb.js";

// A job of a kind carries its input and its result as google.protobuf.Value; these read them
// back as the JSON values they were given as.

/**
 * What the worker returned for a job of a kind, as a JSON value; undefined unless the job is
 * COMPLETED with a result.
 *
 * @example
 * const done = await client.awaitCompletion(job.id);
 * if (done.state === JOB_STATUS.COMPLETED) console.log(jobResult(done));
 */
export function jobResult(job: Job): JsonValue | undefined {
  return job.result === undefined ? undefined : toJson(ValueSchema, job.result);
}

/** The input a job of a kind was created with, as a JSON value; undefined when it has none. */
export function jobInput(job: Job): JsonValue | undefined {
  return job.input === undefined ? undefined : toJson(ValueSchema, job.input);
}
