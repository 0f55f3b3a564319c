import { randomUUID } from "node:crypto";
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../../client/retries/sleep.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { createRateLimits, type RateLimits } from "../../server/policy/rate-limits.js";
import { retryLaterError } from "../../server/policy/retry-later-error.js";
import { deleteKeys, findRedis } from "../support/redis.js";

const redisUrl = await findRedis();
const prefix = `test-rate-${randomUUID()}:`;

/** The delay a refusal's RetryInfo asks for, in ms. */
function retryDelayOf(error: unknown): number {
  const [info] = (error as ConnectError).findDetails(RetryInfoSchema);
  if (info?.retryDelay === undefined) {
    throw new Error("a refusal without RetryInfo");
  }
  return durationMs(info.retryDelay);
}

/**
 * `callers` callers sharing one identity for `forMs`, each calling again about 100 ms after a
 * success (ten times what one identity may) and after the RetryInfo delay after a refusal: how
 * many refusals, and how many of them came right after another refusal of the same caller.
 */
async function followHints(
  limits: Pick<RateLimits, "shortPoll">,
  callers: number,
  forMs: number,
): Promise<{ refusals: number; twice: number }> {
  const caller = `caller-${randomUUID()}`;
  const until = Date.now() + forMs;
  let refusals = 0;
  let twice = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      // Each its own connection, as separate clients behind one address are.
      const connection = {};
      let refusedLast = false;
      while (Date.now() < until) {
        try {
          await limits.shortPoll(caller, connection);
          refusedLast = false;
          // Polling again soon, as a short poller at a tenth of a second would.
          await sleep(80 + Math.random() * 40);
        } catch (error) {
          refusals++;
          twice += refusedLast ? 1 : 0;
          refusedLast = true;
          await sleep(retryDelayOf(error));
        }
      }
    }),
  );
  return { refusals, twice };
}

/**
 * The limiter this replaced, for comparison in the same run: a fixed one-second window of
 * `rate` calls whose refusals all name the window's end.
 */
function fixedWindow(rate: number): Pick<RateLimits, "shortPoll"> {
  // The old limiter's steps, for the same callers in the same run.
  let window = -1;
  let used = 0;
  return {
    shortPoll() {
      const now = Date.now();
      if (Math.floor(now / 1000) !== window) {
        window = Math.floor(now / 1000);
        used = 0;
      }
      if (++used <= rate) {
        return Promise.resolve();
      }
      return Promise.reject(retryLaterError("too many short polls", (window + 1) * 1000 - now));
    },
  };
}

describe("rate limits as token buckets", () => {
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = redisUrl === undefined ? undefined : new Redis(redisUrl);
  });
  afterAll(async () => {
    if (redisUrl !== undefined) {
      await deleteKeys(redisUrl, prefix);
    }
    await redis?.quit();
  });

  const stores: [string, () => RateLimits | undefined][] = [
    ["in this process", () => createRateLimits({ shortPollRate: 10, createRate: 0, listRate: 0 })],
    [
      "in Redis",
      () =>
        redis === undefined
          ? undefined
          : createRateLimits({ shortPollRate: 10, createRate: 0, listRate: 0, redis: { client: redis, prefix } }),
    ],
  ];
  for (const [where, make] of stores) {
    it.skipIf(where === "in Redis" && redisUrl === undefined)(
      `never refuses twice in a row any of 20 callers behind one address who wait the RetryInfo delay (${where})`,
      async () => {
        // Both with the same callers at once, so that both meet the same load.
        const [ours, before] = await Promise.all([
          followHints(make() as RateLimits, 20, 2_000),
          followHints(fixedWindow(10), 20, 2_000),
        ]);
        expect(ours.refusals).toBeGreaterThan(20);
        expect(before.refusals).toBeGreaterThan(20);
        // The fixed window refuses again most callers it refused; the token bucket none.
        expect(before.twice, `a fixed window: ${before.twice} of ${before.refusals}`).toBeGreaterThan(0);
        expect(ours.twice, `${ours.twice} of ${ours.refusals} refusals came right after another`).toBe(0);
      },
    );
  }

  it("limits ListJobs per caller too, with its own allowance", async () => {
    const limits = createRateLimits({ shortPollRate: 1, createRate: 1, listRate: 2 });
    await limits.list("a");
    await limits.list("a");
    await expect(limits.list("a")).rejects.toThrow(/too many job listings: the limit is 2 per second per caller/);
    await limits.list("b");
    await limits.shortPoll("a");
  });
});
