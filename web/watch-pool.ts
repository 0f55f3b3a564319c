/** One job to watch: its id, and when it should end (ms since the epoch), to choose whom to watch first. */
export interface WatchTarget {
  jobId: string;
  endsAt: number;
}

export interface WatchPoolOptions {
  /** The most watches running at once. */
  maxActive: number;
  /**
   * Watches one job until it ends or `signal` aborts. When the pool aborts it (to make room for
   * a job that ends sooner, or on forget), the watch should return quietly: the pool runs it again later.
   */
  watch(jobId: string, signal: AbortSignal): Promise<void>;
}

interface Active extends WatchTarget {
  controller: AbortController;
}

/**
 * Runs at most `maxActive` watches at once, preferring the jobs that end soonest. A browser
 * holds only six HTTP/1.1 connections per server, and each long wait keeps one busy: without a
 * bound, a page with many pending jobs could not send a create or a cancel until one ended.
 * Jobs waiting for a slot keep their countdown; only the news of their end comes later.
 */
export class WatchPool {
  readonly #options: WatchPoolOptions;
  readonly #active = new Map<string, Active>();
  readonly #queued = new Map<string, WatchTarget>();

  constructor(options: WatchPoolOptions) {
    this.#options = options;
  }

  /** Watches the job, now or when a slot frees; does nothing if it is watched or queued already. */
  add(target: WatchTarget): void {
    if (this.#active.has(target.jobId) || this.#queued.has(target.jobId)) {
      return;
    }
    this.#queued.set(target.jobId, { ...target });
    this.#schedule();
  }

  /** Stops watching the jobs (once the page has learned their end by itself, or no longer shows them). */
  forget(...jobIds: string[]): void {
    let freed = false;
    for (const jobId of jobIds) {
      this.#queued.delete(jobId);
      const active = this.#active.get(jobId);
      if (active !== undefined) {
        this.#active.delete(jobId);
        active.controller.abort(new Error(`no longer watching ${jobId}`));
        freed = true;
      }
    }
    // Only once all are gone: a slot freed must not go to a job that is being forgotten too.
    if (freed) {
      this.#schedule();
    }
  }

  /** Whether the job is being watched now (not only queued). */
  isActive(jobId: string): boolean {
    return this.#active.has(jobId);
  }

  #schedule(): void {
    for (;;) {
      const next = soonest(this.#queued.values());
      if (next === undefined) {
        return;
      }
      if (this.#active.size >= this.#options.maxActive) {
        // Make room only for a job that ends sooner than the latest-ending one watched now.
        const latest = latestEnding(this.#active.values());
        if (latest === undefined || latest.endsAt <= next.endsAt) {
          return;
        }
        this.#active.delete(latest.jobId);
        latest.controller.abort(new Error(`watching ${next.jobId} first`));
        this.#queued.set(latest.jobId, { jobId: latest.jobId, endsAt: latest.endsAt });
      }
      this.#queued.delete(next.jobId);
      this.#start(next);
    }
  }

  #start(target: WatchTarget): void {
    const active: Active = { ...target, controller: new AbortController() };
    this.#active.set(target.jobId, active);
    const done = (): void => {
      // A watch the pool aborted is no longer in #active under this entry; leave its requeued twin alone.
      if (this.#active.get(target.jobId) === active) {
        this.#active.delete(target.jobId);
        this.#schedule();
      }
    };
    this.#options.watch(target.jobId, active.controller.signal).then(done, done);
  }
}

function soonest(targets: Iterable<WatchTarget>): WatchTarget | undefined {
  let best: WatchTarget | undefined;
  for (const target of targets) {
    if (best === undefined || target.endsAt < best.endsAt) {
      best = target;
    }
  }
  return best;
}

function latestEnding(targets: Iterable<Active>): Active | undefined {
  let worst: Active | undefined;
  for (const target of targets) {
    if (worst === undefined || target.endsAt > worst.endsAt) {
      worst = target;
    }
  }
  return worst;
}
