/** What one run of the suite does; `--quick` picks the small set (about 1.5 min on 2 cores). */
export interface BenchOptions {
  quick: boolean;
  /** `--router`: the servers the bench builds (buildServer) answer every call through Connect's router (leanPath: false). */
  router: boolean;
  /** The whole run is killed past this. */
  timeLimitMs: number;
  /** Sections to run (default all): unary, held-waits, watch-many, await-completion, redis, worker-path. */
  only: Set<string>;
  unary: {
    warmupS: number;
    roundS: number;
    rounds: number;
    /** HTTP/1.1 connections, and HTTP/2 sessions x streams, in flight at once. */
    connections: number;
    h2Sessions: number;
  };
  heldWaits: { counts: number[]; oneWakeReps: number; streamsPerSession: number; warmupWaits: number };
  watchMany: {
    /** N: jobs watched at once, on N / jobsPerStream WatchJobs streams, against one long wait per job. */
    counts: number[];
    jobsPerStream: number;
    /**
     * The N at which a burst is also timed: N jobs ended at one moment, watched on streams of
     * wakeJobsPerStream, against N other jobs ended so with one long wait each.
     */
    wakeJobs: number;
    wakeJobsPerStream: number;
    /** Jobs made, watched, held and ended once before the readings. */
    warmupJobs: number;
    /** CreateJob calls in flight while the jobs are made. */
    createInFlight: number;
  };
  awaitCompletion: { durationsMs: number[]; pollIntervalMs: number };
  redis: { durationsMs: number[] };
  workerPath: {
    /** Workers each holding a ClaimJob while the claim latency is measured. */
    idleWorkers: number;
    /** Jobs created one at a time for the claim latency, and for its baseline; after the warm-up. */
    claimJobs: number;
    /** Jobs of each one-at-a-time run that are not counted (the first code paths). */
    warmupJobs: number;
    /** The pause before each one-at-a-time create, in ms, once every worker's claim is held. */
    pauseMs: number;
    /** Worker loops (claim, then CompleteJob taking the next job) of the runs compared with simulated 0 s jobs; one of workerCounts. */
    workers: number;
    /** Worker loops of the throughput runs compared with BullMQ (its worker's concurrency), in each round. */
    workerCounts: number[];
    /** Callers, each creating a job and awaiting its completion, then the next. */
    callers: number;
    /** Jobs per throughput run. */
    jobs: number;
    /** Jobs of the uncounted throughput run of each kind before the rounds (the JIT warms up slowly here). */
    warmupRunJobs: number;
    /** Throughput rounds: worker jobs at each count (BullMQ's after each on Redis), then simulated 0 s jobs, in each. */
    rounds: number;
  };
}

export const SECTIONS = ["unary", "held-waits", "watch-many", "await-completion", "redis", "worker-path"] as const;

/** Reads `--quick`, `--router` and `--only=a,b` from the command line. */
export function benchOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const onlyArg = argv.find((arg) => arg.startsWith("--only="));
  const only = new Set(onlyArg === undefined ? SECTIONS : onlyArg.slice("--only=".length).split(","));
  for (const name of only) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new RangeError(`--only: unknown section ${name} (sections: ${SECTIONS.join(", ")})`);
    }
  }
  return {
    quick,
    router: argv.includes("--router"),
    timeLimitMs: quick ? 118_000 : 900_000,
    only,
    unary: { warmupS: quick ? 0.5 : 2, roundS: quick ? 1.5 : 5, rounds: quick ? 3 : 5, connections: 64, h2Sessions: 4 },
    heldWaits: {
      counts: quick ? [1_000, 10_000] : [1_000, 10_000, 50_000, 100_000],
      oneWakeReps: 50,
      streamsPerSession: 500,
      warmupWaits: 200,
    },
    watchMany: {
      counts: quick ? [10_000] : [10_000, 100_000],
      jobsPerStream: 1_000,
      wakeJobs: 10_000,
      wakeJobsPerStream: 100,
      warmupJobs: 500,
      createInFlight: 32,
    },
    awaitCompletion: { durationsMs: spread(quick ? 4 : 10, 1_000, quick ? 3_000 : 10_000), pollIntervalMs: 1_000 },
    redis: { durationsMs: spread(40, 500, quick ? 1_500 : 3_000) },
    workerPath: {
      idleWorkers: 4,
      claimJobs: quick ? 50 : 200,
      warmupJobs: quick ? 10 : 20,
      pauseMs: 20,
      workers: 4,
      workerCounts: [1, 4, 16],
      callers: 16,
      jobs: quick ? 200 : 2_000,
      warmupRunJobs: quick ? 100 : 1_000,
      rounds: quick ? 1 : 3,
    },
  };
}

/**
 * `count` durations from `min` to `max` ms, spread by the golden ratio so that their fractions of
 * a second differ: a short poller's phase then varies from job to job.
 */
function spread(count: number, min: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round(min + (max - min) * (((i + 1) * 0.618_033_988_75) % 1)));
}
