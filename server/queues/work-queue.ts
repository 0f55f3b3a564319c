import type { Job } from "../../gen/jobs/v1/job_pb.js";

/** Which job, which kind's queue it is in, and (when known) how many attempts it may take. */
export interface QueuedJob {
  id: string;
  kind: string;
  maxAttempts?: number;
}

/** A job a worker holds: whose it is, and until when. */
export interface Lease {
  jobId: string;
  kind: string;
  /**
   * What the worker passes with every call about the job: a new one for every claim, except that
   * a job a release hands over may carry the released lease's token (BullMQ locks it so).
   */
  token: string;
  /** When the lease runs out unless extended, in ms since the epoch. */
  expiresAt: number;
}

export interface ClaimRequest {
  /** The kinds the worker does; the oldest waiting job of any of them is claimed. */
  kinds: readonly string[];
  /** How long the lease lasts, in ms. */
  leaseMs: number;
  /** False: take a job waiting now, or none; never hold. */
  hold: boolean;
  /** Ends the claim: it resolves undefined once this aborts with no job handed out. */
  signal: AbortSignal;
}

/** What a release asks of the next job it leases: a claim that takes a job waiting now, or none. */
export type NextClaim = Pick<ClaimRequest, "kinds" | "leaseMs">;

/**
 * The queues of jobs of a kind, apart from the job records: which jobs wait for a worker, which
 * are leased and until when, and which back off before their next attempt. The job record (the
 * JobStore) stays the truth of a job's state; the queue only says who may work on it.
 *
 * Calls with a token that is not the job's current lease are FAILED_PRECONDITION and change
 * nothing.
 */
export interface WorkQueue {
  /**
   * Queues a stored pending job of a kind for its workers. Idempotent: a job queued, leased or
   * backing off already is left as it is. Rejects with UNAVAILABLE when it could not be queued.
   */
  enqueue(job: Job): Promise<void>;
  /**
   * Leases the oldest waiting job of one of the request's kinds, at once or as soon as one comes
   * (woken by its arrival, never by polling); undefined once the request's signal aborts first.
   */
  claim(request: ClaimRequest): Promise<Lease | undefined>;
  /** Moves a lease on: it runs out `leaseMs` from now. Returns the new expiry, in ms since the epoch. */
  extend(job: QueuedJob, token: string, leaseMs: number): Promise<number>;
  /**
   * Ends a lease and takes the job out of the queue for good: it has ended (or was cancelled).
   * With `next`, then leases a job waiting now of next's kinds, as a claim that does not hold
   * would, and resolves with that lease, or undefined when none waits (CompleteJob's claim_next).
   * Where the queue can do it in the same step (BullMQ's fetchNext), a job of the released job's
   * kind is taken first, before an older one of another kind.
   */
  release(job: QueuedJob, token: string, next?: NextClaim): Promise<Lease | undefined>;
  /**
   * Ends a lease and queues the job again for its next attempt after a jittered exponential
   * backoff (retryDelayMs), unless the queue's own count of attempts says none is left (then it
   * is taken out, and false is returned).
   */
  retry(job: QueuedJob, token: string, errorMessage: string): Promise<boolean>;
  /** Takes a job that no worker holds out of the queue, if it is there (it was cancelled or ended). */
  remove(job: QueuedJob): Promise<void>;
  /** Jobs waiting for a worker or backing off, by kind (the kinds this instance has seen). */
  depths(): Promise<Record<string, number>>;
  /** Stops handing out jobs, ends held claims, and releases what the queue holds. Safe to call twice. */
  close(): Promise<void>;
}

/** What a queue tells its owner. */
export interface WorkQueueEvents {
  /**
   * A lease ran out (its worker died or hung) and its job went back to the queue for another
   * worker. The owner decides whether the job has attempts left.
   */
  onLeaseExpired(jobId: string): void;
  /** Failures no caller sees (a lost connection, a job that could not be given back). */
  onError(error: unknown, jobId?: string): void;
}
