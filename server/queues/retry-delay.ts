/** The backoff before a job's second attempt, in ms; each later one doubles it. */
export const RETRY_BASE_MS = 1_000;
/** The longest backoff between two attempts, in ms. */
export const RETRY_MAX_MS = 300_000;

/**
 * How long a job that failed with retryable set waits before its next attempt: 1 s after the
 * first failure, 2 s after the second, 4 s, ... at most 5 min, each with full jitter down to half
 * of it, so that jobs failed together (a service away) do not all come back at once.
 * The one backoff of both queues: BullMQ calls it as its custom backoff strategy.
 */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
