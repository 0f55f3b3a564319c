import { type Job, JobState } from "../client/index.js";

/** The state's name as the proto spells it without its prefix: PENDING, COMPLETED, ERROR, CANCELLED. */
export function stateName(state: JobState): string {
  return JobState[state] ?? `STATE ${state}`;
}

/** A time still to wait, rounded up to the second: "7 s", "2 min 05 s", "1 h 02 min". */
export function formatTimeLeft(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) {
    return `${seconds} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** A job's processing duration: "0.5 s", "3 s", "2 min 30 s". */
export function formatDuration(ms: number): string {
  return ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatTimeLeft(ms);
}

/** The job's kind, or "simulated" for a job the server runs itself. */
export function kindName(job: Job): string {
  return job.kind === "" ? "simulated" : job.kind;
}

/** Which attempt a worker is on: "attempt 2 of 3"; empty before any worker has claimed the job. */
export function attemptText(job: Job): string {
  if (job.attempt <= 0) {
    return "";
  }
  return job.maxAttempts > 0 ? `attempt ${job.attempt} of ${job.maxAttempts}` : `attempt ${job.attempt}`;
}

/** A progress fraction as a whole percentage, kept within 0–100: "40%". */
export function formatPercent(fraction: number): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${Math.floor(clamped * 100)}%`;
}
