import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { createRedisTokenBucket } from "./redis-token-bucket.js";
import { retryLaterError } from "./retry-later-error.js";
import {
  type BucketShape,
  type BucketState,
  type Decision,
  fullBucket,
  isIdle,
  PROMISE_GRACE_MS,
  takeToken,
} from "./token-bucket.js";

/**
 * Takes one call from the caller's allowance; throws RESOURCE_EXHAUSTED past it, with the time
 * promised to this call. `connection` (the call's socket or HTTP/2 session) tells a call coming
 * back at its promised time from the others of the same caller.
 */
export type TakeCall = (caller: string, connection?: object) => Promise<void>;

/** Per-caller limits on the calls that cost the server without waiting: short polls, creates, listings. */
export interface RateLimits {
  shortPoll: TakeCall;
  create: TakeCall;
  /** One ListJobs page. */
  list: TakeCall;
  /** The shortest interval between short polls that stays within the limit, in ms (0 = none). */
  readonly shortPollIntervalMs: number;
}

export interface RateLimitOptions {
  /** Short polls per second per caller; 0 = unlimited. */
  shortPollRate: number;
  /** Creates per second per caller; 0 = unlimited. */
  createRate: number;
  /** ListJobs calls per second per caller; 0 = unlimited. */
  listRate: number;
  /** Where the buckets live: this process (default), or Redis, shared by every instance. */
  redis?: { client: Redis; prefix: string };
  /** Told of each call a limit refuses ("short_poll", "create" or "list"). */
  onLimited?: (limit: string) => void;
  /** For the buckets kept in this process. @default Date.now */
  now?: () => number;
}

/**
 * Per-caller token buckets (see takeToken): `rate` calls per second, in bursts of up to `rate`
 * (at least one). Over the limit the error carries the time promised to that call, so a caller
 * who waits that long is let through.
 */
export function createRateLimits(options: RateLimitOptions): RateLimits {
  const limit = (what: string, name: string, rate: number) => limiter({ what, name, rate, options });
  return {
    shortPoll: limit("short polls", "short_poll", options.shortPollRate),
    create: limit("job creations", "create", options.createRate),
    list: limit("job listings", "list", options.listRate),
    shortPollIntervalMs: options.shortPollRate > 0 ? 1000 / options.shortPollRate : 0,
  };
}

function limiter({
  what,
  name,
  rate,
  options,
}: {
  what: string;
  name: string;
  rate: number;
  options: RateLimitOptions;
}): TakeCall {
  if (rate <= 0) {
    return () => Promise.resolve();
  }
  const shape: BucketShape = { intervalMs: 1000 / rate, burst: Math.max(1, Math.round(rate)) };
  const now = options.now ?? Date.now;
  const take =
    options.redis === undefined
      ? memoryBuckets(shape, now)
      : keyed(createRedisTokenBucket(options.redis.client, shape), `${options.redis.prefix}rate:${name}:`);
  const promises = new PromisedTimes();
  const message = `too many ${what}: the limit is ${rate} per second per caller`;
  return async (caller, connection) => {
    const returning = connection !== undefined && promises.redeem(connection, caller, now());
    let decision: Decision;
    try {
      decision = await take(caller, returning);
    } catch (error) {
      throw new ConnectError("the rate limiter is unavailable", Code.Unavailable, undefined, undefined, error);
    }
    if (!decision.allowed) {
      if (connection !== undefined) {
        promises.make(connection, caller, now() + decision.retryAfterMs);
      }
      options.onLimited?.(name);
      throw retryLaterError(message, decision.retryAfterMs);
    }
  };
}

/**
 * How early a connection may come back for its promised time and still be known as returning:
 * a timer set in a long turn of the event loop fires that much before its time (Node counts from
 * the loop's cached clock). Its token was booked; a little early costs nothing.
 */
const RETURN_EARLY_MS = 50;

/**
 * The time promised to each connection's last refused call, per caller: in this process, as a
 * connection is. Held by the connection (a WeakMap), so it goes with it.
 */
class PromisedTimes {
  private readonly byConnection = new WeakMap<object, Map<string, number>>();

  make(connection: object, caller: string, at: number): void {
    let times = this.byConnection.get(connection);
    if (times === undefined) {
      times = new Map();
      this.byConnection.set(connection, times);
    }
    times.set(caller, at);
  }

  /** True, once, when the connection comes back for a time promised to it (a few ms early at most, a grace late at most). */
  redeem(connection: object, caller: string, now: number): boolean {
    const times = this.byConnection.get(connection);
    const at = times?.get(caller);
    if (at === undefined) {
      return false;
    }
    times?.delete(caller);
    return now >= at - RETURN_EARLY_MS && now <= at + PROMISE_GRACE_MS;
  }
}

type Take = (caller: string, returning: boolean) => Promise<Decision>;

function keyed(take: Take, prefix: string): Take {
  return (caller, returning) => take(prefix + caller, returning);
}

/** How many idle buckets one call may forget, so that forgetting costs O(1) per call. */
const FORGET_PER_CALL = 4;

/**
 * Buckets in this process, least recently used first. Idle ones (full again, nothing promised)
 * are the same as no bucket: a few are dropped at each call, so the map holds only the callers
 * active lately, whatever their number over time.
 */
function memoryBuckets(shape: BucketShape, now: () => number): Take {
  const buckets = new Map<string, BucketState>();
  return (caller, returning) => {
    const at = now();
    const turn = takeToken(buckets.get(caller) ?? fullBucket(at), shape, at, returning);
    buckets.delete(caller);
    buckets.set(caller, turn.state);
    let forgotten = 0;
    for (const [key, state] of buckets) {
      if (forgotten >= FORGET_PER_CALL || !isIdle(state, at)) {
        break;
      }
      buckets.delete(key);
      forgotten++;
    }
    return Promise.resolve(turn.decision);
  };
}
