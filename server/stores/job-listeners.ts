import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { JobListener } from "./job-store.js";

/** The listeners of one job, and the newest version of it they were told. */
interface Listened {
  readonly listeners: Set<JobListener>;
  told: bigint;
}

/** The listeners of each job in this process: what a store's subscribe() keeps and tells. */
export class JobListeners {
  private readonly byJob = new Map<string, Listened>();

  /** Adds `listener` for job `id`; returns the function that removes it. */
  add(id: string, listener: JobListener): () => void {
    let listened = this.byJob.get(id);
    if (listened === undefined) {
      listened = { listeners: new Set(), told: 0n };
      this.byJob.set(id, listened);
    }
    listened.listeners.add(listener);
    return () => {
      const current = this.byJob.get(id);
      if (current?.listeners.delete(listener) === true && current.listeners.size === 0) {
        this.byJob.delete(id);
      }
    };
  }

  /** True when the listeners of job `id` were told of `version` (or a newer one) already. */
  told(id: string, version: bigint): boolean {
    return (this.byJob.get(id)?.told ?? -1n) >= version;
  }

  /** True when someone listens to job `id`. */
  has(id: string): boolean {
    return this.byJob.has(id);
  }

  /** The ids of the jobs someone listens to now. */
  ids(): string[] {
    return [...this.byJob.keys()];
  }

  /** Tells the listeners of `job`, those that were there when it was called. */
  tell(job: Job): void {
    const listened = this.byJob.get(job.id);
    if (listened !== undefined) {
      if (job.version > listened.told) {
        listened.told = job.version;
      }
      for (const listener of [...listened.listeners]) {
        listener(job);
      }
    }
  }

  /** Tells the listeners of `job` unless they were told of its version (or a newer one) already. */
  tellIfNews(job: Job): void {
    if (!this.told(job.id, job.version)) {
      this.tell(job);
    }
  }

  clear(): void {
    this.byJob.clear();
  }
}
