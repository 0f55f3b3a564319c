import { Redis } from "ioredis";

/**
 * The Redis the tests use: REDIS_URL, else the local default. Undefined when none answers, after
 * saying so; with REQUIRE_REDIS=1 (as in CI) a missing Redis fails the run instead.
 */
export async function findRedis(): Promise<string | undefined> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return url;
  } catch (error) {
    if (process.env.REQUIRE_REDIS === "1") {
      throw new Error(`REQUIRE_REDIS=1 but no Redis answers at ${url}: ${String(error)}`);
    }
    console.warn(`SKIPPED: the Redis tests need a Redis server (REDIS_URL, default ${url}); none answers.`);
    return undefined;
  } finally {
    probe.disconnect();
  }
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
}
