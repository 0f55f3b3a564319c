import { Code, ConnectError } from "@connectrpc/connect";
import { CallAbortedError, DeadlineExceededError, type JobClientError } from "./errors.js";
import type { ResolvedClientOptions } from "./job-client-options.js";
import { isRetryable, retryDelayMs } from "./retry-policy.js";
import { sleep } from "./sleep.js";
import { toJobClientError } from "./to-job-client-error.js";

export interface RetryScope {
  /** The RPC, for logs. */
  method: string;
  /** Whether the call may run twice without harm (reads; creates with a request_id). */
  safeToRepeat: boolean;
  /** When the caller's total time runs out (ms since the epoch); undefined for none. */
  deadline: number | undefined;
  signal: AbortSignal | undefined;
  /** The job the call is about, for JobNotFoundError. */
  jobId?: string;
  /** The error thrown when time runs out, given the last failure (if any). */
  timeoutError: (cause: JobClientError | undefined) => DeadlineExceededError;
}

/**
 * Runs `attempt` until it succeeds, retrying retryable failures after a backoff that honours the
 * server's hints, at most `maxRetries` times and never past the deadline. `attempt` receives the
 * time left in ms (undefined without a deadline) and the number of the retry (0 for the first
 * try). Throws a JobClientError.
 */
export async function callWithRetries<T>(
  attempt: (remainingMs: number | undefined, retry: number) => Promise<T>,
  scope: RetryScope,
  options: ResolvedClientOptions,
): Promise<T> {
  const { deadline, signal } = scope;
  let lastError: JobClientError | undefined;
  for (let retry = 0; ; retry++) {
    const remainingMs = deadline === undefined ? undefined : deadline - Date.now();
    if (remainingMs !== undefined && remainingMs <= 0) {
      throw scope.timeoutError(lastError);
    }
    try {
      return await attempt(remainingMs, retry);
    } catch (caught) {
      const error = toJobClientError(caught, scope);
      lastError = error;
      if (error instanceof CallAbortedError) {
        throw error;
      }
      if (deadline !== undefined && Date.now() >= deadline) {
        throw scope.timeoutError(error);
      }
      const cause = error.cause;
      if (!(cause instanceof ConnectError) || !isRetryable(cause, scope.safeToRepeat) || retry >= options.maxRetries) {
        throw error;
      }
      const hintMs = "retryAfterMs" in error ? (error.retryAfterMs as number | undefined) : undefined;
      const leftMs = deadline === undefined ? Infinity : deadline - Date.now();
      if (hintMs !== undefined && hintMs >= leftMs) {
        // The server will not take the call before the deadline: waiting would be in vain.
        throw scope.timeoutError(error);
      }
      // A backoff longer than the time left ends at the deadline (and then with timeoutError).
      const delayMs = Math.min(retryDelayMs(retry, hintMs, options.retry, options.random), leftMs);
      options.logger.warn?.(
        { method: scope.method, retry: retry + 1, delayMs: Math.round(delayMs), code: Code[cause.code] },
        `retrying ${scope.method} after ${error.name}`,
      );
      try {
        await sleep(delayMs, signal);
      } catch (reason) {
        throw new CallAbortedError("the call was aborted by its signal", { cause: reason });
      }
    }
  }
}
