import { randomBytes } from "node:crypto";
import { deleteKeys } from "../../test/support/redis.js";
import { type BenchChild, startChild } from "../child-process.js";
import { type CpuShares, withCpu } from "../cpu-shares.js";
import type { BullmqTarget } from "../load/bullmq-target.js";
import type { OneAtATimeResult, ThroughputResult } from "../load/worker-path-load.js";

/** BullMQ's own path on the bench's Redis: its worker in one process, the callers in another. */
export interface BullmqPath {
  /** One job at a time, the worker idle at `concurrency`: add() -> processor called. */
  claimLatency(spec: {
    concurrency: number;
    jobs: number;
    warmupJobs: number;
    pauseMs: number;
  }): Promise<OneAtATimeResult & CpuShares>;
  /** `callers` adding a job and waiting until it is finished, then the next; the worker at `concurrency`. */
  throughput(spec: { concurrency: number; callers: number; jobs: number }): Promise<ThroughputResult & CpuShares>;
  /** Stops both processes and deletes BullMQ's keys. */
  stop(): Promise<void>;
}

/** Starts BullMQ's worker and callers processes on a queue of their own (a fresh prefix) on `redisUrl`. */
export async function startBullmqPath(redisUrl: string, redisPid: number | undefined): Promise<BullmqPath> {
  const target: BullmqTarget = { redisUrl, prefix: `bench:${randomBytes(6).toString("hex")}:bull`, queue: "bench-echo" };
  const args = [JSON.stringify(target)];
  const started: BenchChild[] = [];
  const stop = async () => {
    await Promise.all(started.map((child) => child.stop()));
    await deleteKeys(redisUrl, target.prefix);
  };
  try {
    const worker = await startChild("bench/load/bullmq-worker.ts", { args });
    started.push(worker);
    const load = await startChild("bench/load/bullmq-load.ts", { args });
    started.push(load);
    const pids = { server: worker.pid, load: load.pid, redis: redisPid };
    const withWorker = async <T extends object>(concurrency: number, work: () => Promise<T>) => {
      await worker.request("start", { concurrency });
      try {
        return await withCpu(pids, work);
      } finally {
        await worker.request("stop");
      }
    };
    return {
      claimLatency: (spec) => withWorker(spec.concurrency, () => load.request<OneAtATimeResult>("claimLatency", spec)),
      throughput: (spec) =>
        withWorker(spec.concurrency, () =>
          load.request<ThroughputResult>("throughput", { ...spec, workers: spec.concurrency }, 300_000),
        ),
      async stop() {
        await load.request("close").catch(() => undefined);
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
