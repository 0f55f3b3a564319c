import type { JobRunner } from "./job-runner.js";
import type { JobStore } from "./job-store.js";
import type { RateLimits } from "./rate-limits.js";

/**
 * The parts of the service whose state may outlive one process: where jobs live, what finishes
 * them, and the rate-limit counters. One process keeps them in memory; many share them in Redis.
 */
export interface JobBackend {
  store: JobStore;
  runner: JobRunner;
  limits: RateLimits;
  /** Stops the runner, then releases what the backend created. Safe to call twice. */
  close(): Promise<void>;
}
