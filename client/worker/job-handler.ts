import type { JsonValue } from "@bufbuild/protobuf";
import type { Job } from "../../gen/jobs/v1/job_pb.js";

// What a JobWorker's handler is given and returns. Apart from the worker, so that its options
// and its parts can name them without importing each other.

/** What a handler gets besides the job. */
export interface JobContext {
  /**
   * Aborts when the work should stop, with a WorkAbortedError whose `why` says why: the job was
   * cancelled, the lease was lost, or the worker is stopping with `force`. Pass it on to fetch
   * and the like; a handler that ignores it just has its outcome dropped (cancel, lost lease).
   */
  signal: AbortSignal;
  /**
   * Reports how far the work has come: `fraction` from 0 to 1 (else RangeError), and what it is
   * doing for people (cut to 256 characters). Only the latest report is kept: it goes with the
   * next heartbeat, which is sent early for it, at most once per 250 ms. Reports made once the
   * lease is over, or after the handler has ended, are ignored.
   */
  progress(fraction: number, message?: string): void;
  /** Which attempt this is: 1 for the job's first claim, 2 after one failed or lost its lease, ... */
  attempt: number;
}

/** What a handler returns: the job's result, any JSON value, or undefined for none. */
export type JobOutcome = JsonValue | undefined;

/**
 * Does one job. Its return value (any JSON value, or nothing) completes the job; what it throws
 * fails this attempt with the error's message (retried by the server while attempts are left,
 * unless it is a NonRetryableError).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: void lets `async () => { ... }` handlers, which return nothing, type-check
export type JobHandler = (job: Job, context: JobContext) => Promise<JobOutcome | void> | JobOutcome | void;
