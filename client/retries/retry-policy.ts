import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

// Retry policy as data and pure functions: which failures retry, how long to wait before the
// next attempt, and what the server asked for.

/** Backoff between attempts: full-jitter exponential. */
export interface RetryOptions {
  /** The cap of the first delay, in ms. @default 200 */
  initialDelayMs: number;
  /** No delay exceeds this (a server's hint excepted), in ms. @default 10_000 */
  maxDelayMs: number;
  /** Growth of the cap per attempt. @default 2 */
  multiplier: number;
}

/** Codes retried for every call: the server or the path to it is busy or briefly away. */
const alwaysRetried: ReadonlySet<Code> = new Set([Code.Unavailable, Code.ResourceExhausted]);

/** Codes retried only for calls safe to repeat: the call may have been half done. */
const retriedWhenSafe: ReadonlySet<Code> = new Set([Code.Internal, Code.Unknown, Code.DeadlineExceeded, Code.Aborted]);

/**
 * True when `error` is worth another attempt. `safeToRepeat` says whether the call may run twice
 * without harm (reads, and creates that carry a request_id).
 */
export function isRetryable(error: ConnectError, safeToRepeat: boolean): boolean {
  if (isRefusedPort(error)) {
    return false;
  }
  if (alwaysRetried.has(error.code) || isNetworkFailure(error)) {
    return true;
  }
  return safeToRepeat && retriedWhenSafe.has(error.code);
}

/**
 * True when fetch refused the URL's port without trying it: the Fetch standard blocks some ports
 * (1, 6000, 10080 and others), and Node's fetch names the reason "bad port". No attempt can get
 * through. (Browsers say only "Failed to fetch": there it stays a network failure, retried.)
 */
export function isRefusedPort(error: ConnectError): boolean {
  const cause = error.cause;
  return cause instanceof TypeError && cause.cause instanceof Error && cause.cause.message === "bad port";
}

/**
 * True when the call failed on the way rather than at the server: fetch's TypeError ("fetch
 * failed", "Failed to fetch"), a Node socket error (ECONNREFUSED, ECONNRESET, ...), or a stream
 * cancelled under the caller (an HTTP/2 stream reset when its connection broke). The caller's
 * own aborts also end as CANCELED; they are told apart by the caller's signal before this.
 */
export function isNetworkFailure(error: ConnectError): boolean {
  if (error.code === Code.Canceled) {
    return true;
  }
  const cause = error.cause;
  if (cause instanceof TypeError) {
    return true;
  }
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

/** The full-jitter delay before retry number `attempt` (0 for the first retry), in ms. */
export function backoffDelayMs(attempt: number, options: RetryOptions, random: () => number): number {
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** attempt);
  return random() * cap;
}

/**
 * The delay before retry number `attempt`: the jittered backoff, but never less than the
 * server's hint (spread by up to 10% above it, so that callers told the same time do not all
 * come back at once).
 */
export function retryDelayMs(attempt: number, hintMs: number | undefined, options: RetryOptions, random: () => number): number {
  const backoff = backoffDelayMs(attempt, options, random);
  if (hintMs === undefined || hintMs <= 0) {
    return backoff;
  }
  return Math.max(backoff, hintMs * (1 + 0.1 * random()));
}

/**
 * How long the server asked the caller to wait, in ms: its google.rpc.RetryInfo detail, else a
 * `retry-after` header (seconds or an HTTP date), else `grpc-retry-pushback-ms`.
 */
export function retryHintMs(error: ConnectError, now: number = Date.now()): number | undefined {
  const [info] = error.findDetails(RetryInfoSchema);
  if (info?.retryDelay !== undefined) {
    return durationMs(info.retryDelay);
  }
  const retryAfter = error.metadata.get("retry-after");
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) {
      return seconds * 1000;
    }
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) {
      return Math.max(0, date - now);
    }
  }
  const pushback = Number(error.metadata.get("grpc-retry-pushback-ms") ?? Number.NaN);
  return Number.isFinite(pushback) && pushback >= 0 ? pushback : undefined;
}
