import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchOptions } from "../bench-options.js";
import { type BenchChild, startChild } from "../child-process.js";
import { type CpuShares, withCpu } from "../cpu-shares.js";
import { type Figure, spreadOf } from "../figure.js";
import type { Delivery } from "../load/watch-many-load.js";
import { rssBytes } from "../proc-stats.js";
import { startJobServer } from "../start-job-server.js";

type Options = BenchOptions["watchMany"];

/** How long the server may take to hold every stream or wait sent. */
const HOLD_TIMEOUT_MS = 120_000;
/** CPU taken by other processes during a burst, in cores, past which the notes say it was disturbed. */
const OTHER_BUSY_SHARE = 0.25;
/** How long a burst of ends may take to arrive in full. */
const DELIVERY_TIMEOUT_MS = 90_000;

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A burst: when the server ended the jobs, how long its loop of finish() took, and how the ends arrived. */
interface Burst extends CpuShares {
  at: number;
  loopMs: number;
  delivery: Delivery;
}

interface SizeResult {
  count: number;
  createPerS: number;
  streams: number;
  before: Memory;
  watched: Memory;
  between: Memory;
  waited: Memory;
  heapPerWatchedJob: number;
  rssPerWatchedJob: number;
  heapPerWait: number;
  rssPerWait: number;
  /** At the wake size: the burst on one long wait per job, then the burst on streams. */
  wake?: { waits: Burst; streams: Burst };
  /** When each step was over, in ms from the load's start. */
  timeline: Record<string, number>;
}

/**
 * WatchJobs with many jobs per stream, on the compiled server: its memory per watched job (N jobs
 * on N/1000 streams) against one GetStatus long wait per job on the same jobs, and, at the wake
 * size, how fast N ends at one moment reach streams of 100 jobs against the same reaching one
 * long wait per job.
 */
export async function benchWatchMany(options: Options, notes: string[]) {
  const results: SizeResult[] = [];
  for (const count of options.counts) {
    results.push(await onServer(count, options));
  }
  const figures = results.map((result) => memoryFigure(result, options));
  for (const result of results) {
    figures.push(...wakeFigures(result, options, notes));
    notes.push(
      `watch-many N=${result.count / 1000}k: compiled server (jobs/dist/server), raw gRPC over h2c, known version 1 (nothing is sent until a job changes), long waits 500 per session; the jobs made at ${result.createPerS.toFixed(0)}/s`,
    );
  }
  return { figures, raw: results };
}

function memoryFigure(result: SizeResult, options: Options): Figure {
  return {
    section: "watch-many",
    name: `N=${result.count / 1000}k jobs watched, ${result.streams} streams of ${options.jobsPerStream}: server heap per job`,
    unit: "KiB",
    ours: result.heapPerWatchedJob / 1024,
    peer: { name: "1 long wait per job", value: result.heapPerWait / 1024 },
  };
}

function wakeFigures(result: SizeResult, options: Options, notes: string[]): Figure[] {
  const figures: Figure[] = [];
  const wake = result.wake;
  if (wake !== undefined) {
    const label = `${result.count / 1000}k jobs ending at once`;
    const streams = `${Math.ceil(result.count / options.wakeJobsPerStream)} streams of ${options.wakeJobsPerStream}`;
    const row = (name: string, ours: Figure["ours"], peer?: Figure["peer"]): Figure => ({
      section: "watch-many wake",
      name: `${label}, ${name}`,
      unit: "ms",
      ours,
      peer,
    });
    figures.push(
      row(`${streams}: end -> arrival`, spreadOf(wake.streams.delivery.latencyMs)),
      row("1 long wait each: end -> arrival", spreadOf(wake.waits.delivery.latencyMs)),
      row(`${streams}: end -> arrival p99`, wake.streams.delivery.latencyMs.p99, {
        name: "1 long wait each",
        value: wake.waits.delivery.latencyMs.p99,
      }),
    );
    for (const [what, burst] of [
      ["streams", wake.streams],
      ["long waits", wake.waits],
    ] as const) {
      const { delivered, messages, missing, failed } = burst.delivery;
      notes.push(
        `watch-many wake (${what}): ${delivered} ends arrived in ${messages} messages, ${missing} missing, ${failed} failed; the server's loop ending them took ${burst.loopMs.toFixed(0)} ms; CPU of a core over the burst: server ${pct(burst.serverCpuShare)}, load ${pct(burst.loadCpuShare)}, other processes ${pct(burst.otherCpuShare)}`,
      );
      if (burst.otherCpuShare >= OTHER_BUSY_SHARE) {
        notes.push(
          `watch-many wake (${what}): other processes on the machine were busy during the burst; its latencies move more than usual`,
        );
      }
    }
  }
  return figures;
}

/** What the steps of one server's run share. */
interface Run {
  load: BenchChild;
  server: BenchChild;
  options: Options;
  make(set: string, count: number): Promise<{ perS: number }>;
  held(count: number): Promise<void>;
  /** Ends the set's jobs at one moment, in the server, and resolves once every end has arrived. */
  burst(set: string, how: "watchDelivery" | "waitDelivery"): Promise<Burst>;
  /** Notes when a step was over. */
  mark(step: string): void;
}

async function onServer(count: number, options: Options): Promise<SizeResult> {
  const room = 2 * count + options.warmupJobs;
  const server = await startJobServer({
    compiled: true,
    endOnCommand: true,
    shortPollRate: 0,
    createRate: 0,
    maxHeldWaits: room,
    maxWaitsPerCaller: room,
    maxWatchedJobsPerCaller: room,
    maxStreamsPerConnection: 1_000,
    maxWaitMs: 120_000,
  });
  let child: BenchChild | undefined;
  try {
    const load = await startChild("bench/load/watch-many-load.ts", { args: [server.ready.url as string] });
    child = load;
    const started = performance.now();
    const timeline: Record<string, number> = {};
    const run: Run = {
      load,
      server,
      options,
      make: (set, n) => load.request("createJobs", { set, count: n, inFlight: options.createInFlight }, 300_000),
      held: (n) => waitForHeld(server, n),
      async burst(set, how) {
        const ids = await load.request<string[]>("ids", { set });
        // With BENCH_CPU_PROFILE, the server's CPU profile over each burst (else nothing).
        await server.request("profileStart");
        const burst = await withCpu({ server: server.pid, load: load.pid, redis: undefined }, async () => {
          const delivered = load.request<Delivery>(how, { set }, DELIVERY_TIMEOUT_MS);
          const { at, loopMs } = await server.request<{ at: number; loopMs: number }>("end", { ids });
          return { at, loopMs, delivery: await delivered };
        });
        await server.request("profileStop", { name: `watch-many-${count / 1000}k-${set}-${how}` });
        return burst;
      },
      mark: (step) => {
        timeline[step] = Math.round(performance.now() - started);
      },
    };
    await load.request("setUp");
    await warmUp(run);
    const created = await run.make("jobs", count);
    run.mark("jobs made");
    const readings = await readMemory(run, count);
    let wake: SizeResult["wake"];
    if (count === options.wakeJobs) {
      const waits = await run.burst("jobs", "waitDelivery");
      run.mark("burst on the long waits arrived");
      await run.make("burst", count);
      const { streams } = await load.request<{ streams: number }>("watch", {
        set: "burst",
        perStream: options.wakeJobsPerStream,
      });
      await run.held(streams);
      run.mark("burst's jobs made and watched");
      wake = { waits, streams: await run.burst("burst", "watchDelivery") };
      run.mark("burst on the streams arrived");
    } else {
      await load.request("release", { set: "jobs" });
    }
    await load.request("close");
    return { count, createPerS: created.perS, ...readings, wake, timeline };
  } finally {
    await child?.stop();
    await server.stop();
  }
}

/** The code paths of creating, watching, holding and ending, once before any reading. */
async function warmUp({ load, options, make, held, burst, mark }: Run): Promise<void> {
  await make("warm", options.warmupJobs);
  await load.request("watch", { set: "warm", perStream: options.wakeJobsPerStream });
  await load.request("hold", { set: "warm" });
  await held(Math.ceil(options.warmupJobs / options.wakeJobsPerStream) + options.warmupJobs);
  await burst("warm", "watchDelivery");
  await load.request("waitDelivery", { set: "warm" });
  await held(0);
  mark("warm");
}

/** Heap and RSS before and after `count` jobs (the set "jobs") are watched on streams, then long-waited on one by one. */
async function readMemory({ load, server, options, held, mark }: Run, count: number) {
  const before = await memoryOf(server);
  const { streams } = await load.request<{ streams: number }>("watch", { set: "jobs", perStream: options.jobsPerStream });
  await held(streams);
  const watched = await memoryOf(server);
  await load.request("unwatch", { set: "jobs" });
  await held(0);
  const between = await memoryOf(server);
  await load.request("hold", { set: "jobs" });
  await held(count);
  const waited = await memoryOf(server);
  mark("memory read");
  return {
    streams,
    before,
    watched,
    between,
    waited,
    heapPerWatchedJob: (watched.heapUsed - before.heapUsed) / count,
    rssPerWatchedJob: (watched.rss - before.rss) / count,
    heapPerWait: (waited.heapUsed - between.heapUsed) / count,
    rssPerWait: (waited.rss - between.rss) / count,
  };
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

/** The server's memory after a forced GC: RSS from /proc/<pid>/status, the rest from process.memoryUsage(). */
async function memoryOf(server: BenchChild): Promise<Memory> {
  const usage = await server.request<Memory & { gcForced: boolean }>("memory");
  if (!usage.gcForced) {
    throw new Error("the server child has no gc(): start it with --expose-gc");
  }
  return { rss: rssBytes(server.pid), heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
}

/** Resolves once the server holds exactly `count` waits and watches (its own registry, over IPC). */
async function waitForHeld(server: BenchChild, count: number): Promise<void> {
  const deadline = performance.now() + HOLD_TIMEOUT_MS;
  for (;;) {
    const held = await server.request<number>("held");
    if (held === count) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`the server holds ${held} waits and watches, not ${count}, after ${HOLD_TIMEOUT_MS} ms`);
    }
    await sleep(5);
  }
}
