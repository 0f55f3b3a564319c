import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { AwaitManyOptions } from "../call-types.js";
import { isTerminal } from "../constants.js";
import { JobClientError } from "../errors.js";
import type { WaitContext } from "./await-completion.js";
import { watchMany } from "./watch-many.js";

/**
 * Follows the jobs until every one has ended, reporting each new version to onUpdate, and
 * resolves with the ended jobs in the order of `jobIds` (a repeated id, repeated). A job that
 * ended in ERROR or CANCELLED is an outcome like COMPLETED, not a failure.
 */
export async function awaitAll(jobIds: readonly string[], options: AwaitManyOptions, context: WaitContext): Promise<Job[]> {
  const ended = new Map<string, Job>();
  for await (const job of watchMany(jobIds, options, context)) {
    options.onUpdate?.(job);
    if (isTerminal(job)) {
      ended.set(job.id, job);
    }
  }
  return jobIds.map((id) => {
    const job = ended.get(id);
    if (job === undefined) {
      // watchMany ends only after yielding every job ended; this is a broken invariant.
      throw new JobClientError(`following the jobs ended before job ${id} did`);
    }
    return job;
  });
}

/**
 * Follows the jobs until one of them has ended, reporting each new version to onUpdate, and
 * resolves with that job; the watch of the others then ends. Of jobs that have ended already,
 * the first reported wins.
 */
export async function awaitAny(jobIds: readonly string[], options: AwaitManyOptions, context: WaitContext): Promise<Job> {
  if (jobIds.length === 0) {
    throw new RangeError("awaitAny needs at least one job id");
  }
  for await (const job of watchMany(jobIds, options, context)) {
    options.onUpdate?.(job);
    if (isTerminal(job)) {
      return job;
    }
  }
  throw new JobClientError("following the jobs ended before any of them did");
}
