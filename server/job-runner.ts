import type { Job } from "../gen/jobs/v1/job_pb.js";

/** Runs the simulated work of jobs: ends each pending job when its processing duration is over. */
export interface JobRunner {
  /** Takes a newly created job; it will be finished through the store when its time comes. */
  start(job: Job): void;
  /** Stops running jobs in this process. Safe to call twice. */
  close(): Promise<void>;
}
