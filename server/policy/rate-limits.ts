import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { createRedisTokenBucket } from "./redis-token-bucket.js";
import { retryLaterError } from "./retry-later-error.js";
import { type BucketShape, type BucketState, type Decision, fullBucket, isIdle, takeToken } from "./token-bucket.js";

/** Per-caller limits on the calls that cost the server without waiting: short polls, creates, listings. */
export interface RateLimits {
  /** Takes one short poll from the caller's allowance; throws RESOURCE_EXHAUSTED past it. */
  shortPoll(caller: string): Promise<void>;
  /** Takes one create from the caller's allowance; throws RESOURCE_EXHAUSTED past it. */
  create(caller: string): Promise<void>;
  /** Takes one ListJobs page from the caller's allowance; throws RESOURCE_EXHAUSTED past it. */
  list(caller: string): Promise<void>;
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

function limiter({ what, name, rate, options }: { what: string; name: string; rate: number; options: RateLimitOptions }) {
  if (rate <= 0) {
    return () => Promise.resolve();
  }
  const shape: BucketShape = { intervalMs: 1000 / rate, burst: Math.max(1, Math.round(rate)) };
  const take =
    options.redis === undefined
      ? memoryBuckets(shape, options.now ?? Date.now)
      : keyed(createRedisTokenBucket(options.redis.client, shape), `${options.redis.prefix}rate:${name}:`);
  const message = `too many ${what}: the limit is ${rate} per second per caller`;
  return async (caller: string): Promise<void> => {
    let decision: Decision;
    try {
      decision = await take(caller);
    } catch (error) {
      throw new ConnectError("the rate limiter is unavailable", Code.Unavailable, undefined, undefined, error);
    }
    if (!decision.allowed) {
      options.onLimited?.(name);
      throw retryLaterError(message, decision.retryAfterMs);
    }
  };
}

function keyed(take: (key: string) => Promise<Decision>, prefix: string): (caller: string) => Promise<Decision> {
  return (caller) => take(prefix + caller);
}

/** How many idle buckets one call may forget, so that forgetting costs O(1) per call. */
const FORGET_PER_CALL = 4;

/**
 * Buckets in this process, least recently used first. Idle ones (full again, nothing promised)
 * are the same as no bucket: a few are dropped at each call, so the map holds only the callers
 * active lately, whatever their number over time.
 */
function memoryBuckets(shape: BucketShape, now: () => number): (caller: string) => Promise<Decision> {
  const buckets = new Map<string, BucketState>();
  return (caller) => {
    const at = now();
    const turn = takeToken(buckets.get(caller) ?? fullBucket(at), shape, at);
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
