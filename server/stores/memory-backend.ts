import type { Clock } from "../clock.js";
import { createRateLimits } from "../policy/rate-limits.js";
import { createMemoryWorkQueue } from "../queues/memory-work-queue.js";
import type { WorkQueueEvents } from "../queues/work-queue.js";
import type { ServiceSettings } from "../server-options.js";
import type { JobBackend } from "./job-backend.js";
import type { JobStore } from "./job-store.js";
import { createMemoryJobStore } from "./memory-job-store.js";
import { createTimerJobRunner } from "./timer-job-runner.js";

export interface MemoryBackendOptions {
  settings: ServiceSettings;
  clock: Clock;
  /** A store of the caller's, left open on close. @default a new in-memory store */
  store?: JobStore;
  onError: (error: unknown, jobId?: string) => void;
  /** Told of each call a rate limit refuses. */
  onRateLimited?: (limit: string) => void;
  /** What the work queue tells. @default lease expiries ignored, failures to onError */
  workEvents?: WorkQueueEvents;
}

/** Everything in this process: zero set-up, one instance, gone when it stops. */
export function createMemoryBackend({
  settings,
  clock,
  store,
  onError,
  onRateLimited,
  workEvents,
}: MemoryBackendOptions): JobBackend {
  const jobs =
    store ??
    createMemoryJobStore({
      retentionMs: settings.jobRetentionMs,
      idempotencyTtlMs: settings.idempotencyTtlMs,
      maxEndedJobs: settings.maxEndedJobs,
      clock,
    });
  const runner = createTimerJobRunner({ store: jobs, clock, onError });
  const work = createMemoryWorkQueue({ clock, ...(workEvents ?? { onLeaseExpired: () => undefined, onError }) });
  return {
    store: jobs,
    runner,
    work,
    limits: createRateLimits({ ...settings, onLimited: onRateLimited }),
    async close() {
      await runner.close();
      await work.close();
      if (store === undefined) {
        await jobs.close();
      }
    },
  };
}
