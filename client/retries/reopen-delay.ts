import type { DeadlineExceededError, JobClientError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import { decideRetry, logRetry } from "./retry-decision.js";

/** What a stream that broke knows, to decide whether and when to open it again. */
export interface BrokenStream {
  /** Why it broke. */
  error: JobClientError;
  /** Reopenings after failures so far. */
  attempt: number;
  /** The RPC, for the log. */
  method: string;
  /** The job, for the log; undefined for a stream of many. */
  jobId: string | undefined;
  /** The wait's time left, and its time-out error. */
  scope: { remaining(): number; timedOut(cause?: unknown): DeadlineExceededError };
}

/**
 * The wait before a broken stream (WatchJob, WatchJobs) is opened again, logged as a retry; the
 * same rule as every call's (decideRetry). Throws instead when the rule says give up (the error)
 * or the wait's time is up (its DeadlineExceededError).
 */
export function reopenDelayMs(broken: BrokenStream, settings: ResolvedClientOptions): number {
  const { error, attempt, method, jobId, scope } = broken;
  const decision = decideRetry({ error, attempt, remainingMs: scope.remaining(), safeToRepeat: true }, settings);
  if (decision.kind === "time-out") {
    throw scope.timedOut(error);
  }
  if (decision.kind === "give-up") {
    throw error;
  }
  logRetry(settings.logger, { method, jobId, attempt, delayMs: decision.delayMs, error });
  return decision.delayMs;
}
