import { randomBytes } from "node:crypto";
import { deleteKeys } from "../../test/support/redis.js";
import { type ServerProcess, spawnServer } from "../../test/support/spawn-server.js";
import type { BenchOptions } from "../bench-options.js";
import { type BenchChild, startChild, trackProcess } from "../child-process.js";
import { cpuProfileFlags } from "../cpu-profile-flags.js";
import { redisPidOf, withCpu } from "../cpu-shares.js";
import type { OneAtATimeResult, ThroughputResult, ThroughputRun } from "../load/worker-path-load.js";
import { cpuTimeUs } from "../proc-stats.js";
import { redisAnswers } from "../redis-answers.js";
import { median } from "../stats.js";
import { type BullmqPath, startBullmqPath } from "./bullmq-path.js";
import { bullmqFigures, workerPathFigures } from "./worker-path-figures.js";
import type { BullmqResult, MeasuredOneAtATime, MeasuredRun, StoreResult } from "./worker-path-results.js";

type Options = BenchOptions["workerPath"];
type Store = StoreResult["store"];

const KIND = "bench.echo";
/** A load process above this share of a core is taken to limit the throughput run. */
const LOAD_BOUND_SHARE = 0.9;
/** CPU taken by other processes during a run, in cores, past which the notes say the run was disturbed. */
const OTHER_BUSY_SHARE = 0.25;

/**
 * Jobs of a kind through WorkerService, on `node jobs/dist/server/main.js` on memory and on Redis:
 * claim latency with idle workers (against a long wait woken by CancelJob on the same server),
 * end-to-end throughput with 1, 4 and 16 worker loops (against simulated 0 s jobs on the same
 * server), and, on the same Redis in the same rounds, BullMQ's own path doing the same no-op
 * work (Queue, Worker at the same concurrency, QueueEvents + waitUntilFinished).
 */
export async function benchWorkerPath(options: Options, notes: string[]) {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const stores: Store[] = ["memory"];
  if (await redisAnswers(url)) {
    stores.push("redis");
  } else {
    notes.push(`worker path: Redis SKIPPED (and BullMQ with it), no Redis answers at ${url} (set REDIS_URL)`);
  }
  const results: StoreResult[] = [];
  let bullmq: BullmqResult | undefined;
  for (const store of stores) {
    const result = await onStore(store, url, options);
    results.push(result.ours);
    bullmq ??= result.bullmq;
  }
  for (const result of results) {
    noteRun(`worker path (${result.store})`, [result.claim, result.wake, ...result.rounds], notes);
  }
  if (bullmq !== undefined) {
    noteRun("worker path (BullMQ; 'server' is its worker process)", [bullmq.claim, ...bullmq.rounds], notes);
  }
  notes.push(
    `worker path: ours is Connect JSON over h2c (@connectrpc/connect-node, one HTTP/2 session), one load process; claim latency over ${options.claimJobs} jobs after ${options.warmupJobs} warm-up, one at a time, ${options.pauseMs} ms apart with ${options.idleWorkers} claims held; throughput: ${options.callers} callers, ${options.workerCounts.join("/")} workers, ${options.jobs} jobs per run, ${options.rounds} round(s) (medians); BullMQ: its worker in one process, Queue + QueueEvents callers in another, the same Redis, counts and rounds`,
  );
  const figures = results.flatMap((result) => workerPathFigures(result, options));
  if (bullmq !== undefined) {
    figures.push(...bullmqFigures(results, bullmq, options));
  }
  return { figures, raw: { stores: results, bullmq } };
}

/**
 * The settings of the worker path's server (`npm start`'s, on memory or on Redis under a prefix of
 * its own, no rate limits), and that prefix, whose keys the caller deletes afterwards.
 */
export function workerPathServerEnv(store: Store, redisUrl: string): { env: Record<string, string>; prefix: string } {
  const prefix = `bench:${randomBytes(6).toString("hex")}:`;
  const env: Record<string, string> = { HOST: "127.0.0.1", SHORT_POLL_RATE: "0", CREATE_RATE: "0", JOB_STORE: store };
  if (store === "redis") {
    Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: prefix });
  }
  return { env, prefix };
}

async function onStore(
  store: Store,
  redisUrl: string,
  options: Options,
): Promise<{ ours: StoreResult; bullmq: BullmqResult | undefined }> {
  const { env, prefix } = workerPathServerEnv(store, redisUrl);
  let server: ServerProcess | undefined;
  let load: BenchChild | undefined;
  let bull: BullmqPath | undefined;
  try {
    const ours = await spawnServer(env, cpuProfileFlags());
    server = ours;
    trackProcess(ours.child);
    const child = await startChild("bench/load/worker-path-load.ts");
    load = child;
    const redisPid = store === "redis" ? await redisPidOf(redisUrl) : undefined;
    const pids = { server: ours.child.pid as number, load: child.pid, redis: redisPid };
    const oneAtATime = {
      url: ours.url,
      kind: KIND,
      idleWorkers: options.idleWorkers,
      jobs: options.claimJobs,
      warmupJobs: options.warmupJobs,
      pauseMs: options.pauseMs,
    };
    const claim = await withCpu(pids, () => child.request<OneAtATimeResult>("claimLatency", oneAtATime));
    const wake = await withCpu(pids, () => child.request<OneAtATimeResult>("wakeBaseline", oneAtATime));
    const run = async (variant: ThroughputRun["variant"], workers: number, jobs: number): Promise<MeasuredRun> => {
      const spec: ThroughputRun = { url: ours.url, variant, kind: KIND, workers, callers: options.callers, jobs };
      const server0 = cpuTimeUs(pids.server);
      const result = await withCpu(pids, () => child.request<ThroughputResult>("throughput", spec, 300_000));
      return { ...result, serverCpuUsPerJob: (cpuTimeUs(pids.server) - server0) / Math.max(1, result.jobs) };
    };
    let bullmq: BullmqResult | undefined;
    let bullRun: ((concurrency: number, jobs: number) => Promise<MeasuredRun>) | undefined;
    if (store === "redis") {
      const path = await startBullmqPath(redisUrl, redisPid);
      bull = path;
      bullmq = {
        claim: await path.claimLatency({ ...oneAtATime, concurrency: options.idleWorkers }),
        rounds: [],
      };
      bullRun = async (concurrency, jobs) => {
        const result = await path.throughput({ concurrency, callers: options.callers, jobs });
        return { ...result, serverCpuUsPerJob: Number.NaN };
      };
    }
    // Warm-up: every path once, on fewer jobs, not counted.
    await run("worker", options.workers, options.warmupRunJobs);
    await run("simulated", options.workers, options.warmupRunJobs);
    await bullRun?.(options.workers, options.warmupRunJobs);
    const rounds: MeasuredRun[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Ours and BullMQ's alternate at each worker count, so that a slow stretch of the machine hits both.
      for (const workers of options.workerCounts) {
        rounds.push(await run("worker", workers, options.jobs));
        if (bullRun !== undefined && bullmq !== undefined) {
          bullmq.rounds.push(await bullRun(workers, options.jobs));
        }
      }
      rounds.push(await run("simulated", options.workers, options.jobs));
    }
    return { ours: { store, claim, wake, rounds }, bullmq };
  } finally {
    await bull?.stop();
    await load?.stop();
    await server?.stop();
    if (store === "redis") {
      await deleteKeys(redisUrl, prefix);
    }
  }
}

function noteRun(label: string, runs: Array<MeasuredOneAtATime | MeasuredRun>, notes: string[]): void {
  for (const run of runs) {
    const what = "variant" in run ? `${run.variant} x${run.workers}` : "one at a time";
    if (run.failures.length > 0) {
      notes.push(`${label} ${what}: ${run.failures.length} failures, the first: ${run.failures[0]}`);
    }
    if ("notCompleted" in run && run.notCompleted > 0) {
      notes.push(`${label} ${what}: ${run.notCompleted} jobs not COMPLETED`);
    }
  }
  const throughputRuns = runs.filter((run): run is MeasuredRun => "variant" in run);
  const kinds = [...new Set(throughputRuns.map((run) => `${run.variant} x${run.workers}`))];
  for (const kind of kinds) {
    const ofKind = throughputRuns.filter((run) => `${run.variant} x${run.workers}` === kind);
    const load = median(ofKind.map((run) => run.loadCpuShare));
    const server = median(ofKind.map((run) => run.serverCpuShare));
    const redis =
      ofKind[0]?.redisCpuShare === undefined ? "" : `, Redis ${pct(median(ofKind.map((run) => run.redisCpuShare ?? 0)))}`;
    const bound = load >= LOAD_BOUND_SHARE ? " (the load process set the pace: read jobs/s as a floor)" : "";
    notes.push(`${label} ${kind}: CPU of a core: server ${pct(server)}, load ${pct(load)}${redis}${bound}`);
  }
  const other = runs.map((run) => run.otherCpuShare - (run.redisCpuShare ?? 0));
  if (Math.max(...other) >= OTHER_BUSY_SHARE) {
    notes.push(
      `${label}: other processes on the machine were busy (median ${pct(median(other))} of a core, at most ${pct(Math.max(...other))}, Redis not counted); its figures move more than usual (otherCpuShare in the JSON)`,
    );
  }
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}
