import type { StoredJob } from "./job-store.js";

/** The most records kept. */
const MAX_JOBS = 2_048;
/** Records larger than this (encoded) are not kept: a few large inputs would hold the memory. */
const MAX_RECORD_BYTES = 16_384;

/**
 * The records this instance wrote or read last, newest first out, at most MAX_JOBS of them and
 * none above MAX_RECORD_BYTES (so at most 32 MiB): the first guess of a compare-and-set, which
 * saves it the read when no other instance changed the job meanwhile. A guess only: another
 * instance may have changed any of them since, which the compare-and-set finds.
 */
export class RecentJobs {
  private readonly records = new Map<string, StoredJob>();

  /** Keeps `stored` (encoded in `bytes` bytes) unless a newer version of it is kept already. */
  keep(stored: StoredJob, bytes: number): void {
    const id = stored.job.id;
    const kept = this.records.get(id);
    if (kept !== undefined && kept.job.version > stored.job.version) {
      return;
    }
    this.records.delete(id);
    if (bytes > MAX_RECORD_BYTES) {
      return;
    }
    this.records.set(id, stored);
    if (this.records.size > MAX_JOBS) {
      this.records.delete(this.records.keys().next().value as string);
    }
  }

  get(id: string): StoredJob | undefined {
    return this.records.get(id);
  }

  /** The job is gone from the store. */
  forget(id: string): void {
    this.records.delete(id);
  }

  get size(): number {
    return this.records.size;
  }
}
