import { Redis } from "ioredis";
import { createBullmqJobRunner } from "./bullmq-job-runner.js";
import type { Clock } from "./clock.js";
import type { JobBackend } from "./job-backend.js";
import { createRateLimits } from "./rate-limits.js";
import { createRedisJobStore } from "./redis-job-store.js";
import type { ServiceSettings } from "./server-options.js";

export interface RedisBackendOptions {
  url: string;
  /** Put before every key, channel and queue name. */
  prefix: string;
  settings: ServiceSettings;
  clock: Clock;
  onError: (error: unknown, jobId?: string) => void;
  /** Told of each call a rate limit refuses. */
  onRateLimited?: (limit: string) => void;
}

/**
 * Jobs, idempotency keys and rate-limit counters in Redis, and processing on a BullMQ queue in
 * the same Redis: any number of instances with the same prefix serve the same jobs. Connections
 * per instance: one for commands, one subscriber, and BullMQ's own; never one per waiter.
 */
export function createRedisBackend(options: RedisBackendOptions): JobBackend {
  const { url, prefix, settings, clock, onError, onRateLimited } = options;
  // Commands fail fast when Redis is away (callers get UNAVAILABLE and retry); BullMQ's
  // connection waits for Redis instead, as BullMQ requires.
  const commands = new Redis(url, { maxRetriesPerRequest: 2 });
  const queueConnection = new Redis(url, { maxRetriesPerRequest: null });
  commands.on("error", onError);
  queueConnection.on("error", onError);
  const store = createRedisJobStore({
    redis: commands,
    prefix,
    idempotencyTtlMs: settings.idempotencyTtlMs,
    retentionMs: settings.jobRetentionMs,
    onError,
  });
  const runner = createBullmqJobRunner({ store, clock, connection: queueConnection, prefix: `${prefix}queue`, onError });
  let closing: Promise<void> | undefined;
  return {
    store,
    runner,
    limits: createRateLimits({ ...settings, redis: { client: commands, prefix }, onLimited: onRateLimited }),
    close() {
      closing ??= (async () => {
        await runner.close();
        await store.close();
        await Promise.allSettled([commands.quit(), queueConnection.quit()]);
      })();
      return closing;
    },
  };
}
