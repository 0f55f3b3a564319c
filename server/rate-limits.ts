import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { retryLaterError } from "./retry-later-error.js";

/** Per-caller limits on the calls that cost the server without waiting: short polls and creates. */
export interface RateLimits {
  /** Takes one short poll from the caller's allowance; throws RESOURCE_EXHAUSTED past it. */
  shortPoll(caller: string): Promise<void>;
  /** Takes one create from the caller's allowance; throws RESOURCE_EXHAUSTED past it. */
  create(caller: string): Promise<void>;
  /** The shortest interval between short polls that stays within the limit, in ms (0 = none). */
  readonly shortPollIntervalMs: number;
}

export interface RateLimitOptions {
  /** Short polls per second per caller; 0 = unlimited. */
  shortPollRate: number;
  /** Creates per second per caller; 0 = unlimited. */
  createRate: number;
  /** Where the counters live: this process (default), or Redis, shared by every instance. */
  redis?: { client: Redis; prefix: string };
  /** Told of each call a limit refuses ("short_poll" or "create"). */
  onLimited?: (limit: string) => void;
}

/**
 * Rate limits on rate-limiter-flexible: per caller, a window holding `rate` calls per second
 * (a window of 1/rate s for rates below one). Over the limit the error says when the window
 * opens again, so a caller who waits that long is let through.
 */
export function createRateLimits({ shortPollRate, createRate, redis, onLimited }: RateLimitOptions): RateLimits {
  return {
    shortPoll: limiter("short polls", shortPollRate, redis, "short-poll", () => onLimited?.("short_poll")),
    create: limiter("job creations", createRate, redis, "create", () => onLimited?.("create")),
    shortPollIntervalMs: shortPollRate > 0 ? 1000 / shortPollRate : 0,
  };
}

function limiter(
  what: string,
  rate: number,
  redis: RateLimitOptions["redis"],
  name: string,
  onLimited: () => void,
): (caller: string) => Promise<void> {
  if (rate <= 0) {
    return () => Promise.resolve();
  }
  const points = Math.max(1, Math.round(rate));
  const duration = points / rate;
  const limiter: RateLimiterAbstract =
    redis === undefined
      ? new RateLimiterMemory({ points, duration })
      : new RateLimiterRedis({ storeClient: redis.client, keyPrefix: `${redis.prefix}rate:${name}`, points, duration });
  const message = `too many ${what}: the limit is ${rate} per second per caller`;
  return async (caller) => {
    try {
      await limiter.consume(caller);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        onLimited();
        throw retryLaterError(message, error.msBeforeNext);
      }
      throw new ConnectError("the rate limiter is unavailable", Code.Unavailable, undefined, undefined, error);
    }
  };
}
