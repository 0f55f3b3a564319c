import { ConnectError } from "@connectrpc/connect";
import { type JobClientError, RateLimitError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import { isRetryable, retryDelayMs } from "../retries/retry-policy.js";

/**
 * How long a claim loop pauses before claiming again after `error`, its `failures`-th failure
 * in a row (0 for the first), in ms; undefined when claiming again cannot help (PERMISSION_DENIED,
 * INVALID_ARGUMENT, UNIMPLEMENTED, ...). The codes, the backoff and the server's hint are the
 * retry policy's; there is no limit on retries, so that an idle worker outlives a server's
 * restart. Pure: the jitter comes in as `random`.
 */
export function claimBackoffMs(
  error: JobClientError,
  failures: number,
  policy: Pick<ResolvedClientOptions, "retry" | "random">,
): number | undefined {
  const cause = error.cause;
  // Safe to repeat whatever happened: a claim whose answer was lost costs its job one attempt,
  // once that lease runs out, and nothing else.
  if (!(cause instanceof ConnectError) || !isRetryable(cause, true)) {
    return undefined;
  }
  const hintMs = error instanceof RateLimitError ? error.retryAfterMs : undefined;
  return retryDelayMs(failures, hintMs, policy.retry, policy.random);
}
