import { Code, ConnectError } from "@connectrpc/connect";
import { Redis, type RedisOptions } from "ioredis";
import type { Clock } from "../clock.js";
import { createRateLimits } from "../policy/rate-limits.js";
import { createBullmqWorkQueue } from "../queues/bullmq-work-queue.js";
import type { WorkQueueEvents } from "../queues/work-queue.js";
import type { ServiceSettings } from "../server-options.js";
import { settleWithin } from "../settle-within.js";
import { createBullmqJobRunner } from "./bullmq-job-runner.js";
import type { BackendAvailability, JobBackend } from "./job-backend.js";
import { createRedisJobStore } from "./redis-job-store.js";

export interface RedisBackendOptions {
  url: string;
  /** Put before every key, channel and queue name. */
  prefix: string;
  settings: ServiceSettings;
  clock: Clock;
  /** Told of failures no caller sees; not of Redis being away (see `availability`). */
  onError: (error: unknown, jobId?: string) => void;
  /** Told of each call a rate limit refuses. */
  onRateLimited?: (limit: string) => void;
  /** What the work queue tells (its failures are filtered like onError's). @default lease expiries ignored */
  workEvents?: WorkQueueEvents;
}

/**
 * The longest a command or a connection attempt may take, in ms: while Redis is away, calls fail
 * with UNAVAILABLE within about this long.
 */
const REDIS_TIMEOUT_MS = 1_000;
/** The longest each step of close() waits for Redis before it lets go, in ms. */
const CLOSE_STEP_MS = 2_000;

/**
 * Reconnects after 100 ms, 200 ms, ... then every second: Redis is used again within about a
 * second of its return.
 */
function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, 1_000);
}

// For commands (the store, the rate limits, adding tasks): each is sent now or refused now, and
// answered within REDIS_TIMEOUT_MS. Nothing waits for Redis in an offline queue, and nothing
// unanswered when the connection drops is sent again later (maxRetriesPerRequest: 0): a call
// that failed has not taken effect later behind its caller's back.
// No auto-pipelining: with the few commands per turn that a call sends, ioredis's pipeline per
// turn cost more CPU than the writes it saved (the worker path at 4 workers: 2.39 ms of server
// CPU per job without it, 2.76 ms with it).
const failFast: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: REDIS_TIMEOUT_MS,
  connectTimeout: REDIS_TIMEOUT_MS,
  retryStrategy: reconnectDelay,
};

// For BullMQ's worker, which waits for Redis instead, as BullMQ requires of blocking reads.
const waitForRedis: RedisOptions = {
  maxRetriesPerRequest: null,
  connectTimeout: REDIS_TIMEOUT_MS,
  retryStrategy: reconnectDelay,
};

/**
 * Jobs, idempotency keys and rate-limit counters in Redis, and processing on a BullMQ queue in
 * the same Redis: any number of instances with the same prefix serve the same jobs. Connections
 * per instance: one for commands, one subscriber, one for the workers and BullMQ's blocking one
 * per queue (the simulated jobs' and each kind's that this instance's workers claim); never one
 * per waiter or per worker.
 *
 * While Redis is away, calls fail fast with UNAVAILABLE (the command connection queues nothing),
 * `availability` says so, and every connection reconnects by itself; errors that only say
 * Redis is away are not passed to `onError`.
 */
export function createRedisBackend(options: RedisBackendOptions): JobBackend {
  const { url, prefix, settings, clock, onRateLimited } = options;
  const commands = new Redis(url, failFast);
  const workerConnection = new Redis(url, waitForRedis);
  // Every connection error is told through `availability`, once per change, not once each.
  commands.on("error", () => undefined);
  workerConnection.on("error", () => undefined);
  const availability = followConnection(commands);
  const onError = (error: unknown, jobId?: string): void => {
    if (!isRedisAway(error) && availability.available) {
      options.onError(error, jobId);
    }
  };
  const store = createRedisJobStore({
    redis: commands,
    prefix,
    idempotencyTtlMs: settings.idempotencyTtlMs,
    retentionMs: settings.jobRetentionMs,
    onError,
  });
  const runner = createBullmqJobRunner({
    store,
    clock,
    connection: workerConnection,
    queueConnection: commands,
    prefix: `${prefix}queue`,
    closeStepMs: CLOSE_STEP_MS,
    onError,
  });
  const work = createBullmqWorkQueue({
    clock,
    connection: workerConnection,
    queueConnection: commands,
    prefix: `${prefix}queue`,
    defaultLeaseMs: settings.defaultLeaseMs,
    leaseCheckMs: settings.leaseCheckMs,
    closeStepMs: CLOSE_STEP_MS,
    onLeaseExpired: options.workEvents?.onLeaseExpired ?? (() => undefined),
    onError,
  });
  let closing: Promise<void> | undefined;
  return {
    store,
    runner,
    work,
    limits: createRateLimits({ ...settings, redis: { client: commands, prefix }, onLimited: onRateLimited }),
    availability,
    close() {
      closing ??= (async () => {
        // Our own quitting is not Redis going away.
        availability.stop();
        await runner.close();
        await work.close();
        await store.close();
        await Promise.all([release(commands), release(workerConnection)]);
      })();
      return closing;
    },
  };
}

/**
 * Quits `redis` if it is connected, letting what is in flight finish, but no longer than
 * CLOSE_STEP_MS; then drops it, which also stops its reconnecting. (ioredis 6 leaves commands
 * queued offline pending when disconnected while reconnecting: they hold no timer or socket.)
 */
async function release(redis: Redis): Promise<void> {
  if (redis.status === "ready") {
    await settleWithin(redis.quit(), CLOSE_STEP_MS);
  }
  redis.disconnect();
}

/**
 * Follows one connection: available from each "ready" to the next "close" (which also follows
 * each failed attempt to connect). Listeners hear of each change, and of the first failure at
 * start, once each: not of every failed command or reconnection attempt.
 */
function followConnection(redis: Redis): BackendAvailability & { stop(): void } {
  const listeners = new Set<(available: boolean) => void>();
  // Undefined until the first connection or the first failure.
  let state: boolean | undefined;
  const set = (available: boolean): void => {
    if (state !== available) {
      state = available;
      for (const listener of [...listeners]) {
        listener(available);
      }
    }
  };
  redis.on("ready", () => set(true));
  redis.on("close", () => set(false));
  return {
    get available() {
      return state === true;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      listeners.clear();
    },
  };
}

const AWAY_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
const AWAY_MESSAGES =
  /Connection is closed|Stream isn't writeable|Command timed out|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT/i;

/**
 * True when `error` says only that Redis cannot be reached: the store's UNAVAILABLE, or the
 * driver's and BullMQ's connection failures (ioredis's messages, as of ioredis 6: check them
 * when upgrading).
 */
function isRedisAway(error: unknown): boolean {
  if (error instanceof ConnectError) {
    return error.code === Code.Unavailable;
  }
  if (!(error instanceof Error)) {
    return false;
  }
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && AWAY_CODES.has(code)) || AWAY_MESSAGES.test(error.message);
}
