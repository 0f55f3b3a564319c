import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { CreateJobRequestSchema } from "../gen/jobs/v1/job_service_pb.js";
import type { CreateJobInput } from "./call-types.js";
import { requireNumber } from "./job-client-options.js";
import { valueFromJson } from "./json/value-from-json.js";
import { newRequestId } from "./request-id.js";

/**
 * The CreateJobRequest for `input`, with a new request id unless one is given. A simulated job
 * sends its duration and should_error; a job of a kind sends its kind, input and max_attempts.
 * Throws RangeError for what the server would refuse and is cheap to see here: a missing or
 * negative duration, fields of one sort of job given to the other, a maxAttempts that is not a
 * whole number >= 0, an input that is not JSON.
 */
export function createJobRequest(input: CreateJobInput): MessageInitShape<typeof CreateJobRequestSchema> {
  const requestId = input.requestId ?? newRequestId();
  if (input.kind === undefined || input.kind === "") {
    if (input.input !== undefined || input.maxAttempts !== undefined) {
      throw new RangeError("input and maxAttempts are for a job of a kind: give a kind, or leave them out");
    }
    requireNumber("processingDurationMs", input.processingDurationMs as number, 0);
    return {
      processingDuration: durationFromMs(input.processingDurationMs as number),
      shouldError: input.shouldError ?? false,
      requestId,
    };
  }
  if (input.processingDurationMs !== undefined || input.shouldError === true) {
    throw new RangeError("processingDurationMs and shouldError are for a simulated job: a job of a kind takes neither");
  }
  const maxAttempts = input.maxAttempts ?? 0;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 0) {
    throw new RangeError(`maxAttempts must be a whole number >= 0, got ${String(maxAttempts)}`);
  }
  return {
    kind: input.kind,
    input: input.input === undefined ? undefined : valueFromJson(input.input, "input"),
    maxAttempts,
    requestId,
  };
}
