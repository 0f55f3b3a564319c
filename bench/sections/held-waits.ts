import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchOptions } from "../bench-options.js";
import { type BenchChild, startChild } from "../child-process.js";
import { type Figure, spreadOf } from "../figure.js";
import { openFileLimit, rssBytes } from "../proc-stats.js";
import { startJobServer } from "../start-job-server.js";
import type { Summary } from "../stats.js";

/** File descriptors kept free beside one socket per HTTP/1.1 wait (each process has the limit). */
const FD_MARGIN = 1_000;
/** How long the server may take to hold every wait sent. */
const HOLD_TIMEOUT_MS = 90_000;

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
interface WakeResult {
  failed: number;
  latencyMs: Summary;
}

/**
 * N long waits held on one job, over HTTP/2 (gRPC, many streams on few sessions) and HTTP/1.1
 * (Connect JSON, a socket each): server memory per wait, one waiter woken among N, all N woken.
 */
export async function benchHeldWaits(options: BenchOptions["heldWaits"], notes: string[]) {
  const fdLimit = openFileLimit();
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = { fdLimit };
  for (const count of options.counts) {
    for (const protocol of ["h2", "h1"] as const) {
      if (protocol === "h1" && count + FD_MARGIN > fdLimit) {
        notes.push(
          `held waits: HTTP/1.1 with N=${count} skipped: one socket per wait needs more than the open-file limit (ulimit -n ${fdLimit})`,
        );
        continue;
      }
      const result = await holdAndWake(protocol, count, options);
      raw[`${protocol}-${count}`] = result;
      const label = `${protocol === "h2" ? "gRPC h2c" : "Connect JSON HTTP/1.1"}, N=${count / 1000}k`;
      const row = (name: string, unit: string, ours: Figure["ours"]): Figure => ({
        section: "held waits",
        name: `${label}: ${name}`,
        unit,
        ours,
      });
      figures.push(
        row("server RSS per wait", "KiB", result.rssPerWaitBytes / 1024),
        row("server heap per wait", "KiB", result.heapPerWaitBytes / 1024),
        row("one wake (cancel -> answer)", "ms", spreadOf(result.oneWake.latencyMs)),
        row("all N woken (cancel -> each answer)", "ms", spreadOf(result.wakeAll.latencyMs)),
      );
      if (result.oneWake.failed + result.wakeAll.failed > 0) {
        notes.push(`held waits ${label}: ${result.oneWake.failed + result.wakeAll.failed} waits failed or were not answered`);
      }
    }
  }
  return { figures, raw };
}

async function holdAndWake(protocol: "h2" | "h1", count: number, options: BenchOptions["heldWaits"]) {
  const room = count + options.warmupWaits + 100;
  const server = await startJobServer({
    shortPollRate: 0,
    createRate: 0,
    maxHeldWaits: room,
    maxWaitsPerCaller: room,
    maxWaitMs: 120_000,
  });
  let load: BenchChild | undefined;
  try {
    const heldAtLeast = async (n: number): Promise<number> => waitForHeld(server, (held) => held >= n);
    load = await startChild("bench/load/held-waits-load.ts", {
      args: [server.ready.url as string, protocol],
      onAsk: (value) => heldAtLeast((value as { heldAtLeast: number }).heldAtLeast),
    });
    await load.request("setUp", { sessions: Math.ceil(count / options.streamsPerSession) });
    // Warm-up: the code paths of holding and waking, before the memory baseline.
    await load.request("hold", { count: options.warmupWaits });
    await heldAtLeast(options.warmupWaits);
    await load.request("wakeAll");
    await waitForHeld(server, (held) => held === 0);
    await sleep(200);
    const before = await memoryOf(server);
    const started = performance.now();
    const { sentMs } = await load.request<{ sentMs: number }>("hold", { count }, HOLD_TIMEOUT_MS);
    await heldAtLeast(count);
    const holdMs = performance.now() - started;
    const after = await memoryOf(server);
    const oneWake = await load.request<WakeResult>("oneWake", { reps: options.oneWakeReps, heldBefore: count });
    const wakeAll = await load.request<WakeResult>("wakeAll");
    await load.request("close");
    return {
      protocol,
      count,
      sentMs,
      holdMs,
      before,
      after,
      rssPerWaitBytes: (after.rss - before.rss) / count,
      heapPerWaitBytes: (after.heapUsed - before.heapUsed) / count,
      oneWake,
      wakeAll,
    };
  } finally {
    await load?.stop();
    await server.stop();
  }
}

/** The server's memory after a forced GC: RSS from /proc/<pid>/status, the rest from process.memoryUsage(). */
async function memoryOf(server: BenchChild): Promise<Memory> {
  const usage = await server.request<Memory & { gcForced: boolean }>("memory");
  if (!usage.gcForced) {
    throw new Error("the server child has no gc(): start it with --expose-gc");
  }
  return { rss: rssBytes(server.pid), heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
}

async function waitForHeld(server: BenchChild, done: (held: number) => boolean): Promise<number> {
  const deadline = performance.now() + HOLD_TIMEOUT_MS;
  for (;;) {
    const held = await server.request<number>("held");
    if (done(held)) {
      return held;
    }
    if (performance.now() > deadline) {
      throw new Error(`the server holds ${held} waits, still not what was expected after ${HOLD_TIMEOUT_MS} ms`);
    }
    await sleep(5);
  }
}
