// The worker path, with the creator, the awaiting callers and the workers in this one process, so
// that every latency is read from one clock (performance.now()). All calls are Connect JSON on
// one h2c session (@connectrpc/connect-node's transport, httpVersion "2"), which cost this process
// about a third less CPU per job than connect-web's fetch over HTTP/1.1 in a trial on 2 cores.
//
// - claimLatency: idle workers each hold a ClaimJob; jobs of a kind are created one at a time,
//   each once every claim is held again and a pause has passed; from just before CreateJob is
//   sent to a claim's answer.
// - wakeBaseline: the same idle workers; one GetStatus long wait held on a pending simulated job,
//   woken by CancelJob; from just before CancelJob is sent to the wait's answer.
// - throughput: callers each create a job and await its completion (JobClient's createAndAwait,
//   LONG: one CreateJob held until the job's end), then the next, until `jobs` are done: jobs of a kind with worker loops claiming and completing them,
//   or simulated jobs of processing_duration 0 with no workers.

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { JOB_STATUS, JobClient, POLLING_MODES } from "../../client/index.js";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { WorkerService } from "../../gen/jobs/v1/worker_service_pb.js";
import { serveParent } from "../serve-parent.js";
import { type Summary, summarize } from "../stats.js";
import { startWorkerLoops } from "./worker-loops.js";

/** How long a held count may take to reach what is expected. */
const HELD_TIMEOUT_MS = 10_000;
/** How long one job may take end to end before the run fails. */
const JOB_TIMEOUT_MS = 60_000;

export interface OneAtATimeRun {
  url: string;
  kind: string;
  idleWorkers: number;
  jobs: number;
  warmupJobs: number;
  pauseMs: number;
}

export interface OneAtATimeResult {
  /** Per counted job: from just before the call was sent to the held call's answer, in ms. */
  latenciesMs: number[];
  latencyMs: Summary;
  /** Per counted job: the CreateJob (claimLatency) or CancelJob (wakeBaseline) round trip, in ms. */
  callMs: Summary;
  failures: string[];
}

export interface ThroughputRun {
  url: string;
  variant: "worker" | "simulated";
  kind: string;
  workers: number;
  callers: number;
  jobs: number;
}

export interface ThroughputResult {
  /** Ours with workers, ours with simulated jobs, or BullMQ's own path (bullmq-load.ts). */
  variant: "worker" | "simulated" | "bullmq";
  /** Worker loops (BullMQ: the worker's concurrency); 0 for simulated jobs. */
  workers: number;
  jobs: number;
  notCompleted: number;
  elapsedMs: number;
  jobsPerS: number;
  /** From just before CreateJob was sent to awaitCompletion resolving, in ms. */
  latencyMs: Summary;
  /** Calls the server answered during the run (its rpc_requests_total), per job; NaN for BullMQ. */
  callsPerJob: number;
  /** Jobs each worker loop completed (empty for simulated jobs and BullMQ). */
  perWorker: number[];
  failures: string[];
}

function clients(url: string) {
  // One HTTP/2 session carries every call of the process (h2c, prior knowledge).
  const transport = createConnectTransport({ baseUrl: url, httpVersion: "2" });
  return {
    jobs: createClient(JobService, transport),
    worker: createClient(WorkerService, transport),
    awaiting: new JobClient({ transport }),
  };
}

/** The value of a gauge on the server's /metrics page. */
async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (match === null) {
    throw new Error(`no gauge ${name} on ${url}/metrics`);
  }
  return Number(match[1]);
}

/** Every call the server has answered so far: the sum of its rpc_requests_total counters. */
async function callsAnswered(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^rpc_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Resolves once the server's gauge reads `count` (the calls are held: nothing is timed by a sleep). */
async function untilHeld(url: string, name: string, count: number): Promise<void> {
  const deadline = performance.now() + HELD_TIMEOUT_MS;
  for (;;) {
    const held = await gauge(url, name);
    if (held === count) {
      return;
    }
    if (performance.now() > deadline) {
      throw new Error(`${name} reads ${held}, not ${count}, after ${HELD_TIMEOUT_MS} ms`);
    }
    await sleep(2);
  }
}

async function claimLatency(spec: OneAtATimeRun): Promise<OneAtATimeResult> {
  const { jobs, worker } = clients(spec.url);
  let expected: ((claim: { job: Job; at: number }) => void) | undefined;
  const workers = startWorkerLoops({
    client: worker,
    kind: spec.kind,
    count: spec.idleWorkers,
    onClaimed: (job, at) => expected?.({ job, at }),
  });
  const latencies: number[] = [];
  const calls: number[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i < spec.warmupJobs + spec.jobs; i++) {
      await untilHeld(spec.url, "held_claims", spec.idleWorkers);
      await sleep(spec.pauseMs);
      const claimed = new Promise<{ job: Job; at: number }>((resolve) => {
        expected = resolve;
      });
      const sent = performance.now();
      const created = jobs.createJob({ kind: spec.kind, input: fromJson(ValueSchema, { n: i }) }).then((answer) => ({
        job: answer.job,
        at: performance.now(),
      }));
      const [create, claim] = await Promise.all([created, claimed]);
      if (claim.job.id !== create.job?.id) {
        failures.push(`job ${i}: a worker claimed ${claim.job.id}, not the job just created (${create.job?.id})`);
      } else if (i >= spec.warmupJobs) {
        latencies.push(claim.at - sent);
        calls.push(create.at - sent);
      }
    }
  } finally {
    await workers.stop();
  }
  failures.push(...workers.failures);
  return { latenciesMs: latencies, latencyMs: summarize(latencies), callMs: summarize(calls), failures };
}

async function wakeBaseline(spec: OneAtATimeRun): Promise<OneAtATimeResult> {
  const { jobs, worker } = clients(spec.url);
  // The same idle workers as in claimLatency, holding claims that nothing answers.
  const workers = startWorkerLoops({ client: worker, kind: spec.kind, count: spec.idleWorkers });
  const latencies: number[] = [];
  const calls: number[] = [];
  const failures: string[] = [];
  try {
    await untilHeld(spec.url, "held_claims", spec.idleWorkers);
    for (let i = 0; i < spec.warmupJobs + spec.jobs; i++) {
      const { job } = await jobs.createJob({ processingDuration: { seconds: 3_600n } });
      const jobId = job?.id ?? "";
      const waited = jobs
        .getStatus({ jobId, wait: { seconds: 20n }, knownVersion: 1n }, { timeoutMs: 25_000 })
        .then((answer) => ({ state: answer.job?.state, at: performance.now() }));
      // held_waits counts held claims too.
      await untilHeld(spec.url, "held_waits", spec.idleWorkers + 1);
      await sleep(spec.pauseMs);
      const sent = performance.now();
      const cancelled = jobs.cancelJob({ jobId }).then(() => performance.now());
      const [cancelAt, wait] = await Promise.all([cancelled, waited]);
      if (wait.state !== JOB_STATUS.CANCELLED) {
        failures.push(`job ${i}: the long wait answered state ${wait.state}, not CANCELLED`);
      } else if (i >= spec.warmupJobs) {
        latencies.push(wait.at - sent);
        calls.push(cancelAt - sent);
      }
    }
  } finally {
    await workers.stop();
  }
  failures.push(...workers.failures);
  return { latenciesMs: latencies, latencyMs: summarize(latencies), callMs: summarize(calls), failures };
}

async function throughput(spec: ThroughputRun): Promise<ThroughputResult> {
  const { worker, awaiting } = clients(spec.url);
  const workers =
    spec.variant === "worker" ? startWorkerLoops({ client: worker, kind: spec.kind, count: spec.workers }) : undefined;
  const latencies: number[] = [];
  const failures: string[] = [];
  let notCompleted = 0;
  let started = 0;
  let elapsedMs: number;
  let calls0: number;
  try {
    if (workers !== undefined) {
      await untilHeld(spec.url, "held_claims", spec.workers);
    }
    const caller = async (): Promise<void> => {
      while (started < spec.jobs) {
        const n = started++;
        const sent = performance.now();
        const done = await awaiting.createAndAwait(
          spec.variant === "worker" ? { kind: spec.kind, input: { n } } : { processingDurationMs: 0 },
          { mode: POLLING_MODES.LONG, timeoutMs: JOB_TIMEOUT_MS },
        );
        latencies.push(performance.now() - sent);
        if (done.state !== JOB_STATUS.COMPLETED) {
          notCompleted++;
        }
      }
    };
    calls0 = await callsAnswered(spec.url);
    const start = performance.now();
    await Promise.all(Array.from({ length: spec.callers }, caller));
    elapsedMs = performance.now() - start;
  } finally {
    await workers?.stop();
  }
  const calls = (await callsAnswered(spec.url)) - calls0;
  failures.push(...(workers?.failures ?? []));
  return {
    variant: spec.variant,
    workers: workers === undefined ? 0 : spec.workers,
    jobs: latencies.length,
    notCompleted,
    elapsedMs,
    jobsPerS: (latencies.length * 1000) / elapsedMs,
    latencyMs: summarize(latencies),
    callsPerJob: calls / Math.max(1, latencies.length),
    perWorker: workers?.completed ?? [],
    failures,
  };
}

serveParent({ claimLatency, wakeBaseline, throughput }, {});
