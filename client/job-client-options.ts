import type { Transport } from "@connectrpc/connect";
import { POLLING_MODES } from "./constants.js";
import type { Logger } from "./logger.js";
import { silentLogger } from "./logger.js";
import type { RetryOptions } from "./retries/retry-policy.js";

export interface JobClientOptions {
  /** The server, such as "http://127.0.0.1:8000", for the default transport (Connect over fetch). */
  baseUrl?: string;
  /** A transport of your own (for example gRPC over HTTP/2 from @connectrpc/connect-node); wins over baseUrl. */
  transport?: Transport;
  /** Retries of one failed call before its error is thrown. @default 5 */
  maxRetries?: number;
  /** Backoff between retries. @default { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 } */
  retry?: Partial<RetryOptions>;
  /** Sent as `authorization: Bearer <apiKey>` on every call. @default none */
  apiKey?: string;
  /** Where to log retries and waits. @default silent */
  logger?: Logger;
  /** Timeout of one attempt of a call that does not wait, in ms. @default 30_000 */
  requestTimeoutMs?: number;
  /** The wait asked of the server per long wait, in ms (the server may hold less). @default 30_000 */
  longWaitMs?: number;
  /** Random numbers in [0, 1) for jitter; replaceable in tests. @default Math.random */
  random?: () => number;
}

/** Every client setting, filled in. */
export interface ResolvedClientOptions {
  maxRetries: number;
  retry: RetryOptions;
  apiKey: string | undefined;
  logger: Logger;
  requestTimeoutMs: number;
  longWaitMs: number;
  random: () => number;
}

/** The defaults of JobClientOptions, AwaitCompletionOptions and WatchManyOptions, declared once. */
export const CLIENT_DEFAULTS = Object.freeze({
  maxRetries: 5,
  retry: Object.freeze({ initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 }),
  requestTimeoutMs: 30_000,
  longWaitMs: 30_000,
  mode: POLLING_MODES.LONG,
  pollIntervalMs: 1_000,
  /** awaitAll, awaitAny and watchMany: one held WatchJobs stream per 1000 jobs, not one held wait per job. */
  manyMode: POLLING_MODES.STREAM,
});

/** Extra time given to a long wait's request beyond the wait itself, for the answer to travel, in ms. */
export const LONG_WAIT_GRACE_MS = 5_000;

/** Copies `options` with defaults filled in; throws RangeError for values that cannot work. */
export function resolveClientOptions(options: JobClientOptions): ResolvedClientOptions {
  const resolved: ResolvedClientOptions = {
    maxRetries: options.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
    retry: {
      initialDelayMs: options.retry?.initialDelayMs ?? CLIENT_DEFAULTS.retry.initialDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? CLIENT_DEFAULTS.retry.maxDelayMs,
      multiplier: options.retry?.multiplier ?? CLIENT_DEFAULTS.retry.multiplier,
    },
    apiKey: options.apiKey,
    logger: options.logger ?? silentLogger,
    requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    longWaitMs: options.longWaitMs ?? CLIENT_DEFAULTS.longWaitMs,
    random: options.random ?? Math.random,
  };
  requireNumber("maxRetries", resolved.maxRetries, 0);
  requireNumber("retry.initialDelayMs", resolved.retry.initialDelayMs, 0);
  requireNumber("retry.maxDelayMs", resolved.retry.maxDelayMs, 0);
  requireNumber("retry.multiplier", resolved.retry.multiplier, 1);
  requireNumber("requestTimeoutMs", resolved.requestTimeoutMs, 1);
  requireNumber("longWaitMs", resolved.longWaitMs, 1);
  return resolved;
}

/** Throws RangeError unless `value` is a finite number >= `min`. */
export function requireNumber(name: string, value: number, min: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a finite number >= ${min}, got ${String(value)}`);
  }
}
