import type { Progress } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { changedJob, type JobStore } from "../stores/job-store.js";

/** A job changes for progress at most once in this long, in ms. */
export const PROGRESS_INTERVAL_MS = 250;

export interface ProgressCoalescerOptions {
  store: JobStore;
  clock: Clock;
  /** Told of a progress write that failed (the store is away): the next report tries again. */
  onError: (error: unknown, jobId: string) => void;
  /** @default PROGRESS_INTERVAL_MS */
  intervalMs?: number;
}

/** What the coalescer holds for a job reported on lately. */
interface Slot {
  /** The latest report not yet written. */
  pending?: Progress;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Writes workers' progress to their jobs, at most once per interval per job however often they
 * report: the first report is written at once, later ones within the interval are held, and the
 * latest of them is written when it ends. A write is a change of the job (its version grows, its
 * waiters are told), so this is what bounds the changes a busy worker causes.
 *
 * A job is held here only for an interval after its last report: nothing stays for jobs no one
 * reports on.
 */
export class ProgressCoalescer {
  private readonly slots = new Map<string, Slot>();
  private readonly intervalMs: number;

  constructor(private readonly options: ProgressCoalescerOptions) {
    this.intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  }

  /** Takes a report for the job; it reaches the job now or by the end of the interval. */
  report(jobId: string, progress: Progress): void {
    const slot = this.slots.get(jobId);
    if (slot !== undefined) {
      slot.pending = progress;
      return;
    }
    this.write(jobId, progress);
    this.slots.set(jobId, { timer: this.tick(jobId) });
  }

  /** Drops what is held for the job: it ended, or its lease did. */
  forget(jobId: string): void {
    const slot = this.slots.get(jobId);
    if (slot !== undefined) {
      clearTimeout(slot.timer);
      this.slots.delete(jobId);
    }
  }

  /** How many jobs are held now. */
  get size(): number {
    return this.slots.size;
  }

  close(): void {
    for (const slot of this.slots.values()) {
      clearTimeout(slot.timer);
    }
    this.slots.clear();
  }

  private tick(jobId: string): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      const slot = this.slots.get(jobId);
      if (slot?.pending === undefined) {
        this.slots.delete(jobId);
        return;
      }
      this.write(jobId, slot.pending);
      slot.pending = undefined;
      slot.timer = this.tick(jobId);
    }, this.intervalMs);
  }

  private write(jobId: string, progress: Progress): void {
    const at = this.options.clock.now();
    this.options.store
      .update(jobId, (job) =>
        job.progress?.fraction === progress.fraction && job.progress.message === progress.message
          ? undefined
          : changedJob(job, { progress }, at),
      )
      .catch((error: unknown) => this.options.onError(error, jobId));
  }
}
