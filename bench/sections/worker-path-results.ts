import type { CpuShares } from "../cpu-shares.js";
import type { OneAtATimeResult, ThroughputResult } from "../load/worker-path-load.js";

/** A throughput run, with the CPU it took. */
export interface MeasuredRun extends ThroughputResult, CpuShares {
  /** Our server's CPU per job (NaN for BullMQ, which has none). */
  serverCpuUsPerJob: number;
}

export type MeasuredOneAtATime = OneAtATimeResult & CpuShares;

/** Ours on one store. */
export interface StoreResult {
  store: "memory" | "redis";
  claim: MeasuredOneAtATime;
  wake: MeasuredOneAtATime;
  /** Worker runs at each worker count and simulated runs, in the order run. */
  rounds: MeasuredRun[];
}

/** BullMQ's own path, run beside ours on Redis. */
export interface BullmqResult {
  claim: MeasuredOneAtATime;
  rounds: MeasuredRun[];
}
