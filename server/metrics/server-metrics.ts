import { Code } from "@connectrpc/connect";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { processMetrics } from "./process-metrics.js";
import { WorkMetrics, type WorkMetricsSources } from "./work-metrics.js";

export interface ServerMetricsSources extends WorkMetricsSources {
  /** How many long waits and watches are held now. */
  heldWaits: () => number;
  /** How many jobs the store knows in each state (by JobState name). */
  jobCounts: () => Promise<Record<string, number>>;
}

/**
 * The server's Prometheus metrics (prom-client), in a registry of its own, served at /metrics
 * with the process's (shared by every server of the process). Names and labels are listed in
 * the README.
 */
export class ServerMetrics {
  /** What /metrics serves: this server's metrics and the process's. */
  readonly registry: Registry;
  /** The metrics of jobs of a kind and their workers. */
  readonly work: WorkMetrics;
  private readonly rpcs: Counter<"method" | "code">;
  private readonly rpcSeconds: Histogram<"method">;
  private readonly wakes: Counter;
  private readonly wakeSeconds: Histogram;
  private readonly evictions: Counter;
  private readonly limited: Counter<"limit">;
  private readonly rpcCounts = new Map<string, { inc(): void }>();
  private readonly rpcTimings = new Map<string, { observe(value: number): void }>();

  constructor(sources: ServerMetricsSources) {
    const own = new Registry();
    const registers = [own];
    new Gauge({
      name: "jobs",
      help: "Jobs the store knows, by state (with Redis: in all instances; ended jobs past their retention included)",
      labelNames: ["state"],
      registers,
      async collect() {
        for (const [state, count] of Object.entries(await sources.jobCounts())) {
          this.set({ state: state.toLowerCase() }, count);
        }
      },
    });
    new Gauge({
      name: "held_waits",
      help: "Long waits and watches held now by this instance",
      registers,
      collect() {
        this.set(sources.heldWaits());
      },
    });
    this.wakes = new Counter({
      name: "wakes_total",
      help: "Held waits and watches answered because their job changed",
      registers,
    });
    this.wakeSeconds = new Histogram({
      name: "wake_delay_seconds",
      help: "From a job's change (its update_time) to the answer of a wait on it",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.evictions = new Counter({
      name: "evictions_total",
      help: "Held waits answered early to stay within MAX_HELD_WAITS",
      registers,
    });
    this.limited = new Counter({
      name: "rate_limited_total",
      help: "Calls refused by a rate limit (RESOURCE_EXHAUSTED), by limit",
      labelNames: ["limit"],
      registers,
    });
    this.rpcs = new Counter({
      name: "rpc_requests_total",
      help: "RPCs answered, by method and code",
      labelNames: ["method", "code"],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: "rpc_duration_seconds",
      help: "How long RPCs took, by method (long waits and streams included)",
      labelNames: ["method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5, 30, 120],
      registers,
    });
    this.work = new WorkMetrics(own, sources);
    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** An RPC ended with `code` after `seconds`. `method` is "package.Service/Method". */
  rpc(method: string, code: Code | undefined, seconds: number): void {
    // Children bound to their labels once: labelled inc() and observe() hash the labels per call,
    // which on the hottest path costs more than the RPC's own work.
    const key = `${method} ${code ?? 0}`;
    let count = this.rpcCounts.get(key);
    if (count === undefined) {
      count = this.rpcs.labels({ method, code: codeName(code) });
      this.rpcCounts.set(key, count);
    }
    count.inc();
    let timing = this.rpcTimings.get(method);
    if (timing === undefined) {
      timing = this.rpcSeconds.labels({ method });
      this.rpcTimings.set(method, timing);
    }
    timing.observe(seconds);
  }

  /** A held wait was answered `delayMs` after its job changed. */
  wake(delayMs: number): void {
    this.wakes.inc();
    this.wakeSeconds.observe(Math.max(0, delayMs) / 1000);
  }

  evicted(): void {
    this.evictions.inc();
  }

  rateLimited(limit: string): void {
    this.limited.inc({ limit });
  }
}

const codeNames = new Map<Code | undefined, string>([[undefined, "ok"]]);

/** "ok", "not_found", "resource_exhausted", ... as Connect writes codes. */
function codeName(code: Code | undefined): string {
  let name = codeNames.get(code);
  if (name === undefined) {
    name = (Code[code as Code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
    codeNames.set(code, name);
  }
  return name;
}
