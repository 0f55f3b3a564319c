import { Code } from "@connectrpc/connect";
import type { Job } from "../gen/jobs/v1/job_pb.js";

// One class per way a call can fail that callers branch on. Each keeps the ConnectError (or the
// abort reason) as `cause`.

/**
 * The key of each class's kind, shared by every copy of this library (two bundles, or two
 * versions installed side by side): `instanceof` compares kinds, as ConnectError compares names.
 */
const errorKind: unique symbol = Symbol.for("jobs.client.JobClientError.kind");

/** The kind of the class whose prototype `proto` is, when it is one of ours. */
function kindOf(proto: object): unknown {
  const ctor = Object.hasOwn(proto, "constructor") ? (proto as { constructor: unknown }).constructor : undefined;
  return typeof ctor === "function" && Object.hasOwn(ctor, errorKind)
    ? (ctor as unknown as { [errorKind]: unknown })[errorKind]
    : undefined;
}

/**
 * True when `value` is an instance of `target`, or of a class of the same kind from another
 * copy of this library. A class without a kind of its own (a caller's subclass) is matched by
 * its prototype alone.
 */
function isInstance(target: { prototype: object }, value: unknown): boolean {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const kind = Object.hasOwn(target, errorKind) ? (target as { [errorKind]?: unknown })[errorKind] : undefined;
  for (let proto: object | null = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (proto === target.prototype || (kind !== undefined && kindOf(proto) === kind)) {
      return true;
    }
  }
  return false;
}

export interface JobClientErrorOptions {
  /** The Connect/gRPC code, when the failure has one. */
  code?: Code;
  cause?: unknown;
}

/** The base of every error JobClient throws; thrown as is for codes without a class of their own
 * (INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, UNAUTHENTICATED, ...). */
export class JobClientError extends Error {
  static readonly [errorKind]: string = "JobClientError";
  override name = "JobClientError";
  /** The Connect/gRPC code, when the failure has one. */
  readonly code: Code | undefined;

  constructor(message: string, options: JobClientErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }

  /**
   * `value instanceof JobClientError` (or a subclass of ours) holds for errors made by another
   * copy of this library too. A subclass of your own, which declares no kind, is checked as usual.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof asks about, a subclass too
    return isInstance(this, value);
  }
}

/** Thrown when the server could not be reached or the connection broke (after retries). */
export class NetworkError extends JobClientError {
  static override readonly [errorKind]: string = "NetworkError";
  override name = "NetworkError";
}

/** Thrown when the server refused a call for rate (RESOURCE_EXHAUSTED) and retries ran out. */
export class RateLimitError extends JobClientError {
  static override readonly [errorKind]: string = "RateLimitError";
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
  static override readonly [errorKind]: string = "ServerError";
  override name = "ServerError";
}

/**
 * Thrown when no job has the id (NOT_FOUND); by awaitAll, awaitAny and watchMany as soon as the
 * server says that one or more of their ids name no job.
 */
export class JobNotFoundError extends JobClientError {
  static override readonly [errorKind]: string = "JobNotFoundError";
  override name = "JobNotFoundError";
  /** The id that names no job: the first of `jobIds`. */
  readonly jobId: string;
  /**
   * Every id the server said names no job in the same answer: from awaitAll, awaitAny and
   * watchMany, all of their unknown ids when they fit in one WatchJobs stream (1000 ids);
   * `[jobId]` otherwise.
   */
  readonly jobIds: readonly string[];

  constructor(message: string, options: JobClientErrorOptions & { jobId: string; jobIds?: readonly string[] }) {
    const { jobIds, ...rest } = options;
    super(message, { code: Code.NotFound, ...rest });
    this.jobId = options.jobId;
    this.jobIds = jobIds ?? [options.jobId];
  }
}

/**
 * Thrown when the caller's timeout ran out first: by awaitCompletion and watch before the job
 * ended (with the job as last seen), by awaitAll, awaitAny and watchMany before they were done
 * (with each job as last seen), or by any call whose retries did not fit in its timeout.
 */
export class DeadlineExceededError extends JobClientError {
  static override readonly [errorKind]: string = "DeadlineExceededError";
  override name = "DeadlineExceededError";
  /**
   * The job as last seen before time ran out, when one was seen. From awaitAll, awaitAny and
   * watchMany: the first of `lastJobs` that had not ended.
   */
  readonly lastJob: Job | undefined;
  /**
   * Each job as last seen before time ran out. From awaitAll, awaitAny and watchMany: in the
   * order of their ids, without repeats, leaving out any job not read yet; from awaitCompletion
   * and watch: `lastJob` alone; from other calls: none.
   */
  readonly lastJobs: readonly Job[];

  constructor(message: string, options: JobClientErrorOptions & { lastJob?: Job; lastJobs?: readonly Job[] }) {
    const { lastJob, lastJobs, ...rest } = options;
    super(message, { code: Code.DeadlineExceeded, ...rest });
    this.lastJob = lastJob;
    this.lastJobs = lastJobs ?? (lastJob === undefined ? [] : [lastJob]);
  }
}

/** Thrown when the caller's AbortSignal aborted the call; `cause` is the signal's reason. */
export class CallAbortedError extends JobClientError {
  static override readonly [errorKind]: string = "CallAbortedError";
  override name = "CallAbortedError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: Code.Canceled, ...options });
  }
}
