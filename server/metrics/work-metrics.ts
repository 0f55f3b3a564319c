import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface WorkMetricsSources {
  /** Jobs of each kind waiting for a worker or backing off (the kinds this instance has seen). */
  queueDepths: () => Promise<Record<string, number>>;
  /** Claims held now by this instance. */
  heldClaims: () => number;
}

/** The metrics of jobs of a kind and their workers. Names and labels are listed in the README. */
export class WorkMetrics {
  private readonly claims: Counter;
  private readonly claimSeconds: Histogram;
  private readonly expired: Counter;
  private readonly retried: Counter;

  constructor(registry: Registry, sources: WorkMetricsSources) {
    const registers = [registry];
    new Gauge({
      name: "work_queue_depth",
      help: "Jobs of a kind waiting for a worker or backing off before their next attempt, by kind",
      labelNames: ["kind"],
      registers,
      async collect() {
        for (const [kind, depth] of Object.entries(await sources.queueDepths())) {
          this.set({ kind }, depth);
        }
      },
    });
    new Gauge({
      name: "held_claims",
      help: "ClaimJob calls held now by this instance, waiting for a job",
      registers,
      collect() {
        this.set(sources.heldClaims());
      },
    });
    this.claims = new Counter({ name: "claims_total", help: "Jobs handed to workers (every attempt)", registers });
    this.claimSeconds = new Histogram({
      name: "claim_latency_seconds",
      help: "From a job's creation to its first claim by a worker",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers,
    });
    this.expired = new Counter({
      name: "leases_expired_total",
      help: "Leases that ran out (their worker stopped sending heartbeats)",
      registers,
    });
    this.retried = new Counter({
      name: "attempts_retried_total",
      help: "Attempts failed with retryable set and queued again",
      registers,
    });
  }

  /** A job was handed to a worker; `sinceCreateMs` for a first attempt. */
  claimed(sinceCreateMs: number | undefined): void {
    this.claims.inc();
    if (sinceCreateMs !== undefined) {
      this.claimSeconds.observe(Math.max(0, sinceCreateMs) / 1000);
    }
  }

  leaseExpired(): void {
    this.expired.inc();
  }

  attemptRetried(): void {
    this.retried.inc();
  }
}
