import { Code, ConnectError } from "@connectrpc/connect";
import { CallAbortedError, type JobClientError, RateLimitError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import type { Logger } from "../logger.js";
import { isRetryable, retryDelayMs } from "./retry-policy.js";

/** A failed attempt, as the retry decision sees it. */
export interface FailedAttempt {
  /** The failure, as it would be thrown. */
  error: JobClientError;
  /** Retries made before this failure (0 when the first attempt failed). */
  attempt: number;
  /** The caller's time left, in ms; Infinity without a timeout. */
  remainingMs: number;
  /** Whether the call may run twice without harm (reads; creates with a request_id). */
  safeToRepeat: boolean;
}

/** What to do after a failed attempt. */
export type RetryDecision =
  /** Try again after `delayMs` (never past the caller's time left). */
  | { kind: "retry"; delayMs: number }
  /** Throw the failure as it is. */
  | { kind: "give-up" }
  /** Throw the caller's DeadlineExceededError, with the failure as its cause. */
  | { kind: "time-out" };

/**
 * Whether and when to try again after a failure: the one rule of every call and stream. A
 * retryable failure is retried after the jittered backoff, never sooner than the server's hint,
 * at most `maxRetries` times; time running out, or a hint reaching past it, ends the call with
 * a time-out instead. Pure: the clock and the jitter come in as `remainingMs` and `random`.
 */
export function decideRetry(
  failure: FailedAttempt,
  policy: Pick<ResolvedClientOptions, "maxRetries" | "retry" | "random">,
): RetryDecision {
  const { error, attempt, remainingMs } = failure;
  if (error instanceof CallAbortedError) {
    return { kind: "give-up" };
  }
  if (remainingMs <= 0) {
    return { kind: "time-out" };
  }
  const cause = error.cause;
  if (!(cause instanceof ConnectError) || !isRetryable(cause, failure.safeToRepeat) || attempt >= policy.maxRetries) {
    return { kind: "give-up" };
  }
  const hintMs = error instanceof RateLimitError ? error.retryAfterMs : undefined;
  if (hintMs !== undefined && hintMs >= remainingMs) {
    // The server will not take the call before the deadline: waiting would be in vain.
    return { kind: "time-out" };
  }
  // A backoff longer than the time left ends at the deadline (and then with the time-out).
  return { kind: "retry", delayMs: Math.min(retryDelayMs(attempt, hintMs, policy.retry, policy.random), remainingMs) };
}

/** Logs a retry that `decideRetry` chose: one warning, the same for calls and streams. */
export function logRetry(
  logger: Logger,
  retry: { method: string; jobId: string | undefined; attempt: number; delayMs: number; error: JobClientError },
): void {
  const { method, jobId, attempt, delayMs, error } = retry;
  logger.warn?.(
    {
      method,
      ...(jobId === undefined ? {} : { jobId }),
      retry: attempt + 1,
      delayMs: Math.round(delayMs),
      code: error.code === undefined ? undefined : Code[error.code],
    },
    `retrying ${method} after ${error.name}`,
  );
}
