import type { BenchOptions } from "../bench-options.js";
import type { Figure } from "../figure.js";
import { median } from "../stats.js";
import type { BullmqResult, MeasuredRun, StoreResult } from "./worker-path-results.js";

type Options = BenchOptions["workerPath"];

const labelOf = (store: StoreResult["store"]) => (store === "memory" ? "memory" : "Redis");

/** The median over the rounds of `pick`, for the runs of one variant at one worker count (simulated jobs have none). */
function medianOf(
  runs: readonly MeasuredRun[],
  variant: MeasuredRun["variant"],
  workers: number,
  pick: (run: MeasuredRun) => number,
) {
  const counted = (run: MeasuredRun) => run.variant === variant && (variant === "simulated" || run.workers === workers);
  return median(runs.filter(counted).map(pick));
}

/** Ours on one store: claim latency against a woken long wait; worker jobs at the usual count against simulated 0 s jobs. */
export function workerPathFigures(result: StoreResult, options: Options): Figure[] {
  const label = labelOf(result.store);
  const row = (name: string, unit: string, ours: number, peer: Figure["peer"], higherIsBetter?: boolean): Figure => ({
    section: "worker path",
    name: `${label}: ${name}`,
    unit,
    ours,
    peer,
    higherIsBetter,
  });
  const wake = "long wait woken by CancelJob";
  const claim = `(create sent -> claim answered), ${options.idleWorkers} idle workers`;
  const of = (variant: MeasuredRun["variant"], pick: (run: MeasuredRun) => number) =>
    medianOf(result.rounds, variant, options.workers, pick);
  const versus = (pick: (run: MeasuredRun) => number) => ({ name: "simulated 0s job", value: of("simulated", pick) });
  const e2e = `worker jobs, ${options.workers} workers, ${options.callers} callers`;
  return [
    row(`claim latency p50 ${claim}`, "ms", result.claim.latencyMs.p50, { name: wake, value: result.wake.latencyMs.p50 }),
    row(`claim latency p99 ${claim}`, "ms", result.claim.latencyMs.p99, { name: wake, value: result.wake.latencyMs.p99 }),
    row(
      `${e2e}: throughput`,
      "jobs/s",
      of("worker", (run) => run.jobsPerS),
      versus((run) => run.jobsPerS),
      true,
    ),
    row(
      `${e2e}: create -> resolved p50`,
      "ms",
      of("worker", (run) => run.latencyMs.p50),
      versus((run) => run.latencyMs.p50),
    ),
    row(
      `${e2e}: create -> resolved p99`,
      "ms",
      of("worker", (run) => run.latencyMs.p99),
      versus((run) => run.latencyMs.p99),
    ),
    row(
      `${e2e}: calls answered per job`,
      "calls/job",
      of("worker", (run) => run.callsPerJob),
      versus((run) => run.callsPerJob),
    ),
    row(
      `${e2e}: server CPU`,
      "µs/job",
      of("worker", (run) => run.serverCpuUsPerJob),
      versus((run) => run.serverCpuUsPerJob),
    ),
  ];
}

/**
 * Ours (Redis first, then memory) against BullMQ's own path at each worker count: throughput and
 * create -> answered p50 and p99; and the claim latency with idle workers against BullMQ's add ->
 * processor called.
 */
export function bullmqFigures(results: readonly StoreResult[], bullmq: BullmqResult, options: Options): Figure[] {
  const figures: Figure[] = [];
  const ordered = [...results].sort((a, b) => (a.store === "redis" ? -1 : b.store === "redis" ? 1 : 0));
  for (const result of ordered) {
    const label = labelOf(result.store);
    const redis = result.rounds.length > 0 && result.store === "redis";
    if (redis) {
      for (const [name, pick] of [
        ["p50", (summary: StoreResult["claim"]) => summary.latencyMs.p50],
        ["p99", (summary: StoreResult["claim"]) => summary.latencyMs.p99],
      ] as const) {
        figures.push({
          section: "worker path vs BullMQ",
          name: `${label}: claim latency ${name}, ${options.idleWorkers} idle workers (create -> claim; BullMQ add -> processor)`,
          unit: "ms",
          ours: pick(result.claim),
          peer: { name: `BullMQ, concurrency ${options.idleWorkers}`, value: pick(bullmq.claim) },
        });
      }
    }
    for (const workers of options.workerCounts) {
      const ours = (pick: (run: MeasuredRun) => number) => medianOf(result.rounds, "worker", workers, pick);
      const theirs = (pick: (run: MeasuredRun) => number) => ({
        name: `BullMQ, concurrency ${workers}`,
        value: medianOf(bullmq.rounds, "bullmq", workers, pick),
      });
      const name = (what: string) =>
        `${label}: ${workers} worker${workers === 1 ? "" : "s"}, ${options.callers} callers: ${what}`;
      const row = (what: string, unit: string, pick: (run: MeasuredRun) => number, higherIsBetter?: boolean): Figure => ({
        section: "worker path vs BullMQ",
        name: name(what),
        unit,
        ours: ours(pick),
        peer: theirs(pick),
        higherIsBetter,
      });
      figures.push(
        row("throughput", "jobs/s", (run) => run.jobsPerS, true),
        row("create -> answered p50", "ms", (run) => run.latencyMs.p50),
        row("create -> answered p99", "ms", (run) => run.latencyMs.p99),
      );
    }
  }
  return figures;
}
