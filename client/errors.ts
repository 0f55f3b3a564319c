import { Code } from "@connectrpc/connect";
import type { Job } from "../gen/jobs/v1/job_pb.js";

// One class per way a call can fail that callers branch on. Each keeps the ConnectError (or the
// abort reason) as `cause`.

export interface JobClientErrorOptions {
  /** The Connect/gRPC code, when the failure has one. */
  code?: Code;
  cause?: unknown;
}

/** The base of every error JobClient throws; thrown as is for codes without a class of their own
 * (INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, UNAUTHENTICATED, ...). */
export class JobClientError extends Error {
  override name = "JobClientError";
  /** The Connect/gRPC code, when the failure has one. */
  readonly code: Code | undefined;

  constructor(message: string, options: JobClientErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/** Thrown when the server could not be reached or the connection broke (after retries). */
export class NetworkError extends JobClientError {
  override name = "NetworkError";
}

/** Thrown when the server refused a call for rate (RESOURCE_EXHAUSTED) and retries ran out. */
export class RateLimitError extends JobClientError {
  override name = "RateLimitError";
  /** How long the server asked to wait before retrying, in ms; undefined when it gave no hint. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: JobClientErrorOptions & { retryAfterMs?: number }) {
    super(message, { code: Code.ResourceExhausted, ...options });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Thrown when the server failed (INTERNAL, UNKNOWN, UNAVAILABLE, ...) and retries ran out. */
export class ServerError extends JobClientError {
  override name = "ServerError";
}

/** Thrown when no job has the id (NOT_FOUND). */
export class JobNotFoundError extends JobClientError {
  override name = "JobNotFoundError";
  readonly jobId: string;

  constructor(message: string, options: JobClientErrorOptions & { jobId: string }) {
    super(message, { code: Code.NotFound, ...options });
    this.jobId = options.jobId;
  }
}

/**
 * Thrown when the caller's timeout ran out first: by awaitCompletion before the job ended
 * (with the job as last seen), or by any call whose retries did not fit in its timeout.
 */
export class DeadlineExceededError extends JobClientError {
  override name = "DeadlineExceededError";
  /** The job as last seen before time ran out, when one was seen. */
  readonly lastJob: Job | undefined;

  constructor(message: string, options: JobClientErrorOptions & { lastJob?: Job }) {
    super(message, { code: Code.DeadlineExceeded, ...options });
    this.lastJob = options.lastJob;
  }
}

/** Thrown when the caller's AbortSignal aborted the call; `cause` is the signal's reason. */
export class CallAbortedError extends JobClientError {
  override name = "CallAbortedError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: Code.Canceled, ...options });
  }
}
