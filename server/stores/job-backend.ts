import type { RateLimits } from "../policy/rate-limits.js";
import type { WorkQueue } from "../queues/work-queue.js";
import type { JobRunner } from "./job-runner.js";
import type { JobStore } from "./job-store.js";

/** Whether a backend that can go away (Redis) is reachable now, and news of each change. */
export interface BackendAvailability {
  /** False while the backend is away (and before it is first reached): calls fail with UNAVAILABLE. */
  readonly available: boolean;
  /**
   * Calls `listener` with the new value each time `available` changes, and once when the first
   * attempt to reach the backend fails; returns the function that stops it.
   */
  onChange(listener: (available: boolean) => void): () => void;
}

/**
 * The parts of the service whose state may outlive one process: where jobs live, what finishes
 * them, and the rate-limit counters. One process keeps them in memory; many share them in Redis.
 */
export interface JobBackend {
  store: JobStore;
  runner: JobRunner;
  /** Where jobs of a kind wait for their workers, and who holds which. */
  work: WorkQueue;
  limits: RateLimits;
  /** Absent for a backend that cannot go away (memory). */
  availability?: BackendAvailability;
  /**
   * Stops the runner and the work queue, then releases what the backend created, within a bounded time whatever
   * state the backend is in. Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Resolves once `availability` says available, or after `ms` whatever it says: a server waits
 * briefly for its Redis at start, but starts (NOT_SERVING) while Redis is away.
 */
export function untilAvailable(availability: BackendAvailability | undefined, ms: number): Promise<void> {
  if (availability === undefined || availability.available) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = availability.onChange((available) => {
      if (available) {
        done();
      }
    });
  });
}
