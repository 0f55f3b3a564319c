import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { deleteKeys } from "../../test/support/redis.js";
import { type ServerProcess, spawnServer } from "../../test/support/spawn-server.js";
import type { BenchOptions } from "../bench-options.js";
import { type BenchChild, startChild, trackProcess } from "../child-process.js";
import type { Figure } from "../figure.js";
import type { OneAtATimeResult, ThroughputResult, ThroughputRun } from "../load/worker-path-load.js";
import { cpuTimeUs, machineBusyUs } from "../proc-stats.js";
import { redisAnswers } from "../redis-answers.js";
import { median } from "../stats.js";

type Options = BenchOptions["workerPath"];
type Store = "memory" | "redis";

/** The CPU each process took over a run, in cores (1 = one core busy throughout). */
interface CpuShares {
  serverCpuShare: number;
  loadCpuShare: number;
  /** Redis's own CPU, when its process can be read here. */
  redisCpuShare?: number;
  /** Every process but the server and the load (Redis included): other work on the machine is noise. */
  otherCpuShare: number;
}

/** A throughput run, with the CPU it took. */
interface MeasuredRun extends ThroughputResult, CpuShares {
  serverCpuUsPerJob: number;
}

type MeasuredOneAtATime = OneAtATimeResult & CpuShares;

interface StoreResult {
  store: Store;
  claim: MeasuredOneAtATime;
  wake: MeasuredOneAtATime;
  rounds: MeasuredRun[];
}

const KIND = "bench.echo";
/** A load process above this share of a core is taken to limit the throughput run. */
const LOAD_BOUND_SHARE = 0.9;
/** CPU taken by other processes during a run, in cores, past which the notes say the run was disturbed. */
const OTHER_BUSY_SHARE = 0.25;

/**
 * Jobs of a kind through WorkerService, on `node dist/server/main.js` on memory and on Redis:
 * claim latency with idle workers (against a long wait woken by CancelJob on the same server),
 * and end-to-end throughput with worker loops (against simulated 0 s jobs on the same server).
 */
export async function benchWorkerPath(options: Options, notes: string[]) {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const stores: Store[] = ["memory"];
  if (await redisAnswers(url)) {
    stores.push("redis");
  } else {
    notes.push(`worker path: Redis SKIPPED, no Redis answers at ${url} (set REDIS_URL)`);
  }
  const results: StoreResult[] = [];
  for (const store of stores) {
    results.push(await onStore(store, url, options));
  }
  for (const result of results) {
    noteRun(result, notes);
  }
  notes.push(
    `worker path: Connect JSON over h2c (@connectrpc/connect-node, one HTTP/2 session), one load process; claim latency over ${options.claimJobs} jobs after ${options.warmupJobs} warm-up, one at a time, ${options.pauseMs} ms apart with ${options.idleWorkers} claims held; throughput: ${options.callers} callers, ${options.workers} workers, ${options.jobs} jobs per run, ${options.rounds} alternating rounds (medians)`,
  );
  return { figures: results.flatMap((result) => figuresOf(result, options)), raw: results };
}

async function onStore(store: Store, redisUrl: string, options: Options): Promise<StoreResult> {
  const prefix = `bench:${randomBytes(6).toString("hex")}:`;
  const env: Record<string, string> = { HOST: "127.0.0.1", SHORT_POLL_RATE: "0", CREATE_RATE: "0", JOB_STORE: store };
  if (store === "redis") {
    Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: prefix });
  }
  let server: ServerProcess | undefined;
  let load: BenchChild | undefined;
  try {
    const ours = await spawnServer(env);
    server = ours;
    trackProcess(ours.child);
    const child = await startChild("bench/load/worker-path-load.ts");
    load = child;
    const pids = {
      server: ours.child.pid as number,
      load: child.pid,
      redis: store === "redis" ? await redisPidOf(redisUrl) : undefined,
    };
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
    const run = async (variant: ThroughputRun["variant"], jobs: number): Promise<MeasuredRun> => {
      const spec: ThroughputRun = {
        url: ours.url,
        variant,
        kind: KIND,
        workers: options.workers,
        callers: options.callers,
        jobs,
      };
      const server0 = cpuTimeUs(pids.server);
      const result = await withCpu(pids, () => child.request<ThroughputResult>("throughput", spec, 300_000));
      return { ...result, serverCpuUsPerJob: (cpuTimeUs(pids.server) - server0) / Math.max(1, result.jobs) };
    };
    // Warm-up: both paths once, on fewer jobs, not counted.
    await run("worker", options.warmupRunJobs);
    await run("simulated", options.warmupRunJobs);
    const rounds: MeasuredRun[] = [];
    for (let round = 0; round < options.rounds; round++) {
      rounds.push(await run("worker", options.jobs), await run("simulated", options.jobs));
    }
    return { store, claim, wake, rounds };
  } finally {
    await load?.stop();
    await server?.stop();
    if (store === "redis") {
      await deleteKeys(redisUrl, prefix);
    }
  }
}

/** Runs `work` and adds the CPU that the server, the load, Redis and everything else took over its wall time. */
async function withCpu<T>(pids: { server: number; load: number; redis: number | undefined }, work: () => Promise<T>) {
  const read = () => ({
    server: cpuTimeUs(pids.server),
    load: cpuTimeUs(pids.load),
    redis: pids.redis === undefined ? undefined : cpuTimeUs(pids.redis),
    busy: machineBusyUs(),
    at: performance.now(),
  });
  const before = read();
  const result = await work();
  const after = read();
  const wallUs = (after.at - before.at) * 1000;
  const serverUs = after.server - before.server;
  const loadUs = after.load - before.load;
  const shares: CpuShares = {
    serverCpuShare: serverUs / wallUs,
    loadCpuShare: loadUs / wallUs,
    redisCpuShare: after.redis === undefined || before.redis === undefined ? undefined : (after.redis - before.redis) / wallUs,
    otherCpuShare: Math.max(0, after.busy - before.busy - serverUs - loadUs) / wallUs,
  };
  return { ...result, ...shares };
}

/** The Redis server's pid when it runs on this machine and its /proc entry can be read; else undefined. */
async function redisPidOf(url: string): Promise<number | undefined> {
  const redis = new Redis(url);
  try {
    const info = await redis.info("server");
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return Number.isInteger(pid) && existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

function figuresOf(result: StoreResult, options: Options): Figure[] {
  const label = result.store === "memory" ? "memory" : "Redis";
  const row = (name: string, unit: string, ours: number, peer: Figure["peer"], higherIsBetter?: boolean): Figure => ({
    section: "worker path",
    name: `${label}: ${name}`,
    unit,
    ours,
    peer,
    higherIsBetter,
  });
  const wake = "long wait woken by CancelJob";
  const of = (variant: ThroughputRun["variant"], pick: (run: MeasuredRun) => number) =>
    median(result.rounds.filter((run) => run.variant === variant).map(pick));
  const versus = (pick: (run: MeasuredRun) => number) => ({ name: "simulated 0s job", value: of("simulated", pick) });
  const e2e = `${options.workers} workers, ${options.callers} callers`;
  return [
    row(
      `claim latency p50 (create sent -> claim answered), ${options.idleWorkers} idle workers`,
      "ms",
      result.claim.latencyMs.p50,
      {
        name: wake,
        value: result.wake.latencyMs.p50,
      },
    ),
    row(
      `claim latency p99 (create sent -> claim answered), ${options.idleWorkers} idle workers`,
      "ms",
      result.claim.latencyMs.p99,
      {
        name: wake,
        value: result.wake.latencyMs.p99,
      },
    ),
    row(
      `worker jobs, ${e2e}: throughput`,
      "jobs/s",
      of("worker", (run) => run.jobsPerS),
      versus((run) => run.jobsPerS),
      true,
    ),
    row(
      `worker jobs, ${e2e}: create -> resolved p50`,
      "ms",
      of("worker", (run) => run.latencyMs.p50),
      versus((run) => run.latencyMs.p50),
    ),
    row(
      `worker jobs, ${e2e}: create -> resolved p99`,
      "ms",
      of("worker", (run) => run.latencyMs.p99),
      versus((run) => run.latencyMs.p99),
    ),
    row(
      `worker jobs, ${e2e}: calls answered per job`,
      "calls/job",
      of("worker", (run) => run.callsPerJob),
      versus((run) => run.callsPerJob),
    ),
    row(
      `worker jobs, ${e2e}: server CPU`,
      "µs/job",
      of("worker", (run) => run.serverCpuUsPerJob),
      versus((run) => run.serverCpuUsPerJob),
    ),
  ];
}

function noteRun(result: StoreResult, notes: string[]): void {
  const label = `worker path (${result.store})`;
  for (const [what, run] of [
    ["claim latency", result.claim],
    ["wake baseline", result.wake],
  ] as const) {
    if (run.failures.length > 0) {
      notes.push(`${label} ${what}: ${run.failures.length} failures, the first: ${run.failures[0]}`);
    }
  }
  for (const run of result.rounds) {
    if (run.notCompleted > 0 || run.failures.length > 0) {
      notes.push(`${label} ${run.variant}: ${run.notCompleted} jobs not COMPLETED, ${run.failures.length} failed calls`);
    }
  }
  for (const variant of ["worker", "simulated"] as const) {
    const runs = result.rounds.filter((run) => run.variant === variant);
    const load = median(runs.map((run) => run.loadCpuShare));
    const server = median(runs.map((run) => run.serverCpuShare));
    const redis = runs[0]?.redisCpuShare === undefined ? "" : `, Redis ${pct(median(runs.map((run) => run.redisCpuShare ?? 0)))}`;
    const bound = load >= LOAD_BOUND_SHARE ? " (the load process set the pace: read jobs/s as a floor)" : "";
    notes.push(`${label} ${variant} jobs: CPU of a core: server ${pct(server)}, load ${pct(load)}${redis}${bound}`);
  }
  const other = [result.claim, result.wake, ...result.rounds].map((run) => run.otherCpuShare - (run.redisCpuShare ?? 0));
  if (Math.max(...other) >= OTHER_BUSY_SHARE) {
    notes.push(
      `${label}: other processes on the machine were busy (median ${pct(median(other))} of a core, at most ${pct(Math.max(...other))}, Redis not counted); its figures move more than usual (otherCpuShare in the JSON)`,
    );
  }
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}
