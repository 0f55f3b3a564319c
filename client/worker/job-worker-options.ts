import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { ConnectionOptions } from "../connection.js";
import type { JobClientError } from "../errors.js";
import { type ResolvedClientOptions, requireNumber, resolveClientOptions } from "../job-client-options.js";
import type { Logger } from "../logger.js";
import type { RetryOptions } from "../retries/retry-policy.js";
import type { JobHandler } from "./job-handler.js";

export interface JobWorkerOptions extends ConnectionOptions {
  /** The kinds of job this worker does (CreateJobRequest.kind): 1 to 16 of them. */
  kinds: readonly string[];
  /** Does one job: resolves with its result, or throws to fail the attempt. */
  handler: JobHandler;
  /** How many jobs at once: that many claims are held while idle. @default 1 */
  concurrency?: number;
  /** Names this worker in the server's logs (ClaimJobRequest.worker_id). @default none */
  workerId?: string;
  /**
   * How long a claimed job stays this worker's without a heartbeat, in ms: 1_000 or more, and no
   * more than the server's MAX_LEASE (default 10 min). @default 30_000
   */
  leaseMs?: number;
  /** How long the server may hold each ClaimJob while no job comes, in ms. @default 20_000 */
  claimWaitMs?: number;
  /** A heartbeat is sent every leaseMs × heartbeatFraction; more than 0, less than 1. @default 1 / 3 */
  heartbeatFraction?: number;
  /**
   * Retries of one Heartbeat, CompleteJob or FailJob before it is given up (never past the
   * lease). Claims retry without end while the worker runs, so that an idle worker outlives a
   * server's restart; both after the backoff of `retry`. @default 5, as JobClient's
   */
  maxRetries?: number;
  /** Backoff between retries, as JobClient's. @default { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 } */
  retry?: Partial<RetryOptions>;
  /** Timeout of one attempt of a Heartbeat, CompleteJob or FailJob, in ms. @default 30_000 */
  requestTimeoutMs?: number;
  /** Where to log claims, retries and reports. @default silent */
  logger?: Logger;
  /**
   * Called when the worker could not do what it meant to: a claim failed in a way retries
   * cannot mend (the worker then stops), or a job's CompleteJob or FailJob failed for good (its
   * lease then runs out, and the server gives it to another worker). Logged with logger.error too.
   * @default none
   */
  onError?: (error: JobClientError, job: Job | undefined) => void;
  /** Random numbers in [0, 1) for jitter; replaceable in tests. @default Math.random */
  random?: () => number;
}

/** The defaults of JobWorkerOptions of its own, declared once; the rest are CLIENT_DEFAULTS. */
export const WORKER_DEFAULTS = Object.freeze({
  concurrency: 1,
  leaseMs: 30_000,
  claimWaitMs: 20_000,
  heartbeatFraction: 1 / 3,
});

/** Every worker setting, filled in. */
export interface ResolvedWorkerOptions extends ResolvedClientOptions {
  kinds: string[];
  handler: JobHandler;
  concurrency: number;
  workerId: string;
  leaseMs: number;
  claimWaitMs: number;
  heartbeatFraction: number;
  /** leaseMs × heartbeatFraction. */
  heartbeatMs: number;
  onError: JobWorkerOptions["onError"];
}

/** Copies `options` with defaults filled in; throws RangeError or TypeError for values that cannot work. */
export function resolveWorkerOptions(options: JobWorkerOptions): ResolvedWorkerOptions {
  const calls = resolveClientOptions({
    maxRetries: options.maxRetries,
    retry: options.retry,
    apiKey: options.apiKey,
    logger: options.logger,
    requestTimeoutMs: options.requestTimeoutMs,
    random: options.random,
  });
  const leaseMs = options.leaseMs ?? WORKER_DEFAULTS.leaseMs;
  const heartbeatFraction = options.heartbeatFraction ?? WORKER_DEFAULTS.heartbeatFraction;
  const resolved: ResolvedWorkerOptions = {
    ...calls,
    kinds: Array.isArray(options.kinds) ? [...options.kinds] : [],
    handler: options.handler,
    concurrency: options.concurrency ?? WORKER_DEFAULTS.concurrency,
    workerId: options.workerId ?? "",
    leaseMs,
    claimWaitMs: options.claimWaitMs ?? WORKER_DEFAULTS.claimWaitMs,
    heartbeatFraction,
    heartbeatMs: leaseMs * heartbeatFraction,
    onError: options.onError,
  };
  if (resolved.kinds.length === 0 || resolved.kinds.some((kind) => typeof kind !== "string" || kind === "")) {
    throw new RangeError(`kinds must name at least one kind, each a non-empty string, got ${JSON.stringify(options.kinds)}`);
  }
  if (typeof resolved.handler !== "function") {
    throw new TypeError("handler must be a function");
  }
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number >= 1, got ${String(resolved.concurrency)}`);
  }
  requireNumber("leaseMs", resolved.leaseMs, 1_000);
  requireNumber("claimWaitMs", resolved.claimWaitMs, 0);
  if (!(heartbeatFraction > 0 && heartbeatFraction < 1)) {
    throw new RangeError(`heartbeatFraction must be more than 0 and less than 1, got ${String(heartbeatFraction)}`);
  }
  return resolved;
}
