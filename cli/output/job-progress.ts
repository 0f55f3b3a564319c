import { timestampMs } from "@bufbuild/protobuf/wkt";
import { JOB_STATUS, type Job } from "../../client/index.js";

/** How far a job has come, by the clock, from its createTime to its estimatedCompletionTime. */
export interface JobProgress {
  /** From 0 to 1. */
  fraction: number;
  /** Time left until the estimated end, in ms; 0 once it has passed. */
  remainingMs: number;
}

/**
 * The progress of `job` at `nowMs`. A pending job moves with the clock (the server's timestamps
 * against our clock, so a skew between the two shows up here); a completed or failed one is
 * full; a cancelled one stops where it was cancelled.
 */
export function jobProgress(job: Job, nowMs: number): JobProgress {
  const start = job.createTime === undefined ? nowMs : timestampMs(job.createTime);
  const end = job.estimatedCompletionTime === undefined ? start : timestampMs(job.estimatedCompletionTime);
  if (job.state === JOB_STATUS.COMPLETED || job.state === JOB_STATUS.ERROR) {
    return { fraction: 1, remainingMs: 0 };
  }
  const at = job.state === JOB_STATUS.CANCELLED && job.updateTime !== undefined ? timestampMs(job.updateTime) : nowMs;
  const fraction = end <= start ? 1 : Math.min(1, Math.max(0, (at - start) / (end - start)));
  return { fraction, remainingMs: Math.max(0, end - at) };
}
