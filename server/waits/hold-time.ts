import { deadlineMarginMs } from "./poll-hint.js";

/**
 * How long a long wait (GetStatus, ClaimJob) may be held, in ms: the wait asked, the server's
 * MAX_WAIT, and the caller's deadline less a safety margin, whichever comes first; 0 or less
 * answers at once.
 */
export function holdTimeMs(waitMs: number, maxWaitMs: number, timeoutMs: number | undefined): number {
  const deadlineMs = timeoutMs === undefined ? Infinity : timeoutMs - deadlineMarginMs(timeoutMs);
  return Math.min(waitMs, maxWaitMs, deadlineMs);
}
