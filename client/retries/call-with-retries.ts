import { CallAbortedError, type DeadlineExceededError, type JobClientError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import { decideRetry, logRetry } from "./retry-decision.js";
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
 * Runs `attempt` until it succeeds, retrying as `decideRetry` says: after a backoff that honours
 * the server's hints, at most `maxRetries` times and never past the deadline. `attempt` receives the
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
      const remaining = deadline === undefined ? Infinity : deadline - Date.now();
      const decision = decideRetry({ error, attempt: retry, remainingMs: remaining, safeToRepeat: scope.safeToRepeat }, options);
      if (decision.kind === "time-out") {
        throw scope.timeoutError(error);
      }
      if (decision.kind === "give-up") {
        throw error;
      }
      const { delayMs } = decision;
      logRetry(options.logger, { method: scope.method, jobId: scope.jobId, attempt: retry, delayMs, error });
      try {
        await sleep(delayMs, signal);
      } catch (reason) {
        throw new CallAbortedError("the call was aborted by its signal", { cause: reason });
      }
    }
  }
}
