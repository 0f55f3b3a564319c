import { type Job, JobState } from "../gen/jobs/v1/job_pb.js";

/** The states of a job, by name: compare `job.state` with these. */
export const JOB_STATUS = Object.freeze({
  PENDING: JobState.PENDING,
  COMPLETED: JobState.COMPLETED,
  ERROR: JobState.ERROR,
  CANCELLED: JobState.CANCELLED,
} as const);

/** A job's state (the proto enum JobState). */
export type JobStatus = JobState;

/** How awaitCompletion waits. */
export const POLLING_MODES = Object.freeze({
  /** Long waits: the server answers when the job changes. One request per change. The default. */
  LONG: "long",
  /** Interval polling, paced by the larger of pollIntervalMs and the server's hint. */
  SHORT: "short",
  /** A WatchJob stream, resumed from the last version when it breaks; LONG where streams are not served. */
  STREAM: "stream",
} as const);

/** One of POLLING_MODES. */
export type PollingMode = (typeof POLLING_MODES)[keyof typeof POLLING_MODES];

/** True when the job has ended: COMPLETED, ERROR or CANCELLED. It will not change again. */
export function isTerminal(job: Job): boolean {
  return job.state !== JobState.PENDING && job.state !== JobState.UNSPECIFIED;
}
