// BullMQ's own path for the worker-path comparison, the awaiting side: `new Queue(name)`,
// `queue.add`, and `job.waitUntilFinished(queueEvents)` on one QueueEvents, as BullMQ's guide
// has a producer wait for a result. The worker is bench/load/bullmq-worker.ts, another process.
// - claimLatency: one job at a time, a pause before each, the worker idle: from just before
//   add() to the processor being called (its result says when; wall clock on this machine).
// - throughput: callers each add a job and wait until it is finished, then the next, until
//   `jobs` are done. argv[2] is a JSON BullmqTarget.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue, QueueEvents } from "bullmq";
import { serveParent } from "../serve-parent.js";
import { summarize } from "../stats.js";
import { type BullmqTarget, connectionOf } from "./bullmq-target.js";
import { wallClockMs } from "./watch-stream.js";
import type { OneAtATimeResult, ThroughputResult } from "./worker-path-load.js";

/** How long one job may take end to end before it counts as failed. */
const JOB_TIMEOUT_MS = 60_000;

const target = JSON.parse(process.argv[2] ?? "{}") as BullmqTarget;
const connection = connectionOf(target.redisUrl);
const queue = new Queue(target.queue, { connection, prefix: target.prefix });
const events = new QueueEvents(target.queue, { connection, prefix: target.prefix });
queue.on("error", () => undefined);
// Each waitUntilFinished listens for the queue's "closing": one listener per job in flight.
queue.setMaxListeners(0);
events.on("error", () => undefined);
await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

interface EchoResult {
  ok: boolean;
  calledAt: number;
}

async function claimLatency(spec: { jobs: number; warmupJobs: number; pauseMs: number }): Promise<OneAtATimeResult> {
  const latencies: number[] = [];
  const calls: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < spec.warmupJobs + spec.jobs; i++) {
    await sleep(spec.pauseMs);
    const sent = wallClockMs();
    try {
      const job = await queue.add("echo", { n: i });
      const added = wallClockMs();
      const result = (await job.waitUntilFinished(events, JOB_TIMEOUT_MS)) as EchoResult;
      if (i >= spec.warmupJobs) {
        latencies.push(result.calledAt - sent);
        calls.push(added - sent);
      }
    } catch (error) {
      failures.push(String(error));
    }
  }
  return { latenciesMs: latencies, latencyMs: summarize(latencies), callMs: summarize(calls), failures };
}

async function throughput(spec: { callers: number; jobs: number; workers: number }): Promise<ThroughputResult> {
  const latencies: number[] = [];
  const failures: string[] = [];
  let notCompleted = 0;
  let started = 0;
  const caller = async (): Promise<void> => {
    while (started < spec.jobs) {
      const n = started++;
      const sent = performance.now();
      try {
        const job = await queue.add("echo", { n });
        const result = (await job.waitUntilFinished(events, JOB_TIMEOUT_MS)) as EchoResult;
        latencies.push(performance.now() - sent);
        if (result.ok !== true) {
          notCompleted++;
        }
      } catch (error) {
        notCompleted++;
        failures.push(String(error));
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: spec.callers }, caller));
  const elapsedMs = performance.now() - start;
  return {
    variant: "bullmq",
    workers: spec.workers,
    jobs: latencies.length,
    notCompleted,
    elapsedMs,
    jobsPerS: (latencies.length * 1000) / elapsedMs,
    latencyMs: summarize(latencies),
    callsPerJob: Number.NaN,
    perWorker: [],
    failures,
  };
}

serveParent(
  {
    claimLatency,
    throughput,
    close: () => Promise.all([events.close(), queue.close()]).then(() => undefined),
  },
  {},
);
