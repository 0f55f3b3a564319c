import type { Job } from "../client/index.js";

export interface PageWatchOptions {
  /**
   * Follows the jobs until all have ended or `signal` aborts: every job first as it is, then
   * each new version (the client's watchMany: one WatchJobs stream for up to 1000 jobs).
   */
  watch(jobIds: readonly string[], signal: AbortSignal): AsyncIterable<Job>;
  /** Each version seen of a job still followed. */
  onJob(job: Job): void;
  /** A watch that failed for the page's jobs `jobIds` (now no longer followed), and why. */
  onError(jobIds: readonly string[], error: unknown): void;
}

/**
 * Follows every pending job the page shows over one watch, whatever their number: a browser
 * holds six HTTP/1.1 connections per server, and a long wait per job would take them all, leaving
 * none for a create or a cancel. A job added is followed by opening the watch again for all of
 * them (once per task, however many were added in it); a job that ends, or that the page stops
 * showing, is only dropped from the set: its news is no longer passed on, and the watch is not
 * opened again for it.
 */
export class PageWatch {
  readonly #options: PageWatchOptions;
  /** The jobs followed: the watch's news of any other is dropped. */
  readonly #followed = new Set<string>();
  #running: AbortController | undefined;
  #reopening = false;

  constructor(options: PageWatchOptions) {
    this.#options = options;
  }

  /**
   * Follows the job, once the current task's other work is done (the jobs added in one task
   * open one watch); does nothing if it is followed already.
   */
  add(jobId: string): void {
    if (this.#followed.has(jobId)) {
      return;
    }
    this.#followed.add(jobId);
    if (!this.#reopening) {
      this.#reopening = true;
      queueMicrotask(() => {
        this.#reopening = false;
        this.#open();
      });
    }
  }

  /** Stops following the jobs; the watch ends once none is left. */
  forget(...jobIds: string[]): void {
    for (const jobId of jobIds) {
      this.#followed.delete(jobId);
    }
    if (this.#followed.size === 0) {
      this.#running?.abort();
      this.#running = undefined;
    }
  }

  /** Whether the job is followed. */
  has(jobId: string): boolean {
    return this.#followed.has(jobId);
  }

  #open(): void {
    this.#running?.abort();
    this.#running = undefined;
    const jobIds = [...this.#followed];
    if (jobIds.length > 0) {
      const running = new AbortController();
      this.#running = running;
      void this.#follow(jobIds, running.signal);
    }
  }

  async #follow(jobIds: readonly string[], signal: AbortSignal): Promise<void> {
    try {
      for await (const job of this.#options.watch(jobIds, signal)) {
        if (signal.aborted) {
          return;
        }
        if (this.#followed.has(job.id)) {
          this.#options.onJob(job);
        }
      }
      // The watch ends once every job has ended; any left over (none should be) can be added again.
      if (!signal.aborted) {
        this.forget(...jobIds);
      }
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      const failed = jobIds.filter((jobId) => this.#followed.has(jobId));
      this.forget(...failed);
      this.#options.onError(failed, error);
    }
  }
}
