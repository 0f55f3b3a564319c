import { JobState } from "../client/index.js";

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
