// The errors of doing jobs: one a handler throws to say "do not try again", one a handler's
// signal aborts with to say why its work should stop.

/**
 * Throw it (or a subclass) from a JobWorker handler when another attempt cannot succeed (bad
 * input, a missing file): the job then ends in ERROR at once with the message, whatever attempts
 * it has left. Any other error fails only this attempt, and the server queues the job again
 * while it has attempts left.
 *
 * @example
 * if (typeof input !== "string") throw new NonRetryableError("input must be a URL");
 */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

/** Why a job's work should stop; see WorkAbortedError. */
export type WorkAbortedWhy =
  /** The job was cancelled (CancelJob): it has ended, and nothing the worker reports counts. */
  | "cancelled"
  /** The lease was lost: the server refused a heartbeat, or heartbeats failed until the lease ran out. Another worker may hold the job now. */
  | "lease-lost"
  /** The worker is stopping with `force`: what the handler returns or throws is still reported. */
  | "stopping";

/**
 * The reason a JobWorker handler's `signal` aborts with: `why` says which of the three it is. On
 * "cancelled" and "lease-lost" the worker reports nothing for the job, whatever the handler
 * returns; `cause` holds the failure that lost the lease, when one did.
 */
export class WorkAbortedError extends Error {
  override name = "WorkAbortedError";
  readonly why: WorkAbortedWhy;

  constructor(message: string, options: { why: WorkAbortedWhy; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.why = options.why;
  }
}
