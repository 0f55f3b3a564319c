import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { Outcome } from "./job-store.js";

/** The message of a job created with should_error. */
export const SIMULATED_ERROR_MESSAGE = "the job failed as requested (should_error was set)";

/** Runs the simulated work of jobs: ends each pending job when its processing duration is over. */
export interface JobRunner {
  /**
   * Takes a job once it is stored; once this resolves, the job will be finished through the
   * store when its time comes (a job that has ended by then is left alone). Idempotent: starting
   * a job that was started already schedules nothing more, so a retried create may call it again.
   * Rejects when the job could not be scheduled; the caller may try again.
   */
  start(job: Job): Promise<void>;
  /** Stops running jobs in this process. Safe to call twice. */
  close(): Promise<void>;
}

/** How the simulated work of `job` ends, at `at`. */
export function simulatedOutcome(job: Job, at: number): Outcome {
  return job.shouldError
    ? { state: JobState.ERROR, errorMessage: SIMULATED_ERROR_MESSAGE, at }
    : { state: JobState.COMPLETED, at };
}
