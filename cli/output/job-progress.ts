import { timestampMs } from "@bufbuild/protobuf/wkt";
import { JOB_STATUS, type Job } from "../../client/index.js";

/** How far a job has come: by the clock for a simulated job, as its worker says for a job of a kind. */
export interface JobProgress {
  /** From 0 to 1. */
  fraction: number;
  /** Time left until the estimated end, in ms; 0 once it has passed; undefined for a job of a kind. */
  remainingMs: number | undefined;
  /** For a job of a kind: what its worker says it is doing, or that none holds it yet. */
  note?: string;
}

/**
 * The progress of `job` at `nowMs`. A pending job moves with the clock (the server's timestamps
 * against our clock, so a skew between the two shows up here); a completed or failed one is
 * full; a cancelled one stops where it was cancelled.
 */
export function jobProgress(job: Job, nowMs: number): JobProgress {
  if (job.kind !== "") {
    return workProgress(job);
  }
  const start = job.createTime === undefined ? nowMs : timestampMs(job.createTime);
  const end = job.estimatedCompletionTime === undefined ? start : timestampMs(job.estimatedCompletionTime);
  if (job.state === JOB_STATUS.COMPLETED || job.state === JOB_STATUS.ERROR) {
    return { fraction: 1, remainingMs: 0 };
  }
  const at = job.state === JOB_STATUS.CANCELLED && job.updateTime !== undefined ? timestampMs(job.updateTime) : nowMs;
  const fraction = end <= start ? 1 : Math.min(1, Math.max(0, (at - start) / (end - start)));
  return { fraction, remainingMs: Math.max(0, end - at) };
}

/** A job of a kind: the fraction its worker last reported, and what it said. */
function workProgress(job: Job): JobProgress {
  if (job.state === JOB_STATUS.COMPLETED) {
    return { fraction: 1, remainingMs: undefined, note: "completed" };
  }
  const fraction = job.progress?.fraction ?? 0;
  if (job.state !== JOB_STATUS.PENDING) {
    return { fraction, remainingMs: undefined, note: "ended" };
  }
  if (!job.held) {
    const next =
      job.attempt === 0 ? "waiting for a worker" : `waiting for a worker (attempt ${job.attempt + 1} of ${job.maxAttempts})`;
    return { fraction, remainingMs: undefined, note: next };
  }
  const said = job.progress?.message ?? "";
  const attempt = `attempt ${job.attempt}${job.maxAttempts > 0 ? ` of ${job.maxAttempts}` : ""}`;
  return { fraction, remainingMs: undefined, note: said === "" ? attempt : `${said} (${attempt})` };
}
