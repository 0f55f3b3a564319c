import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { JobListener } from "./job-store.js";

/** The listeners of each job in this process: what a store's subscribe() keeps and tells. */
export class JobListeners {
  private readonly byJob = new Map<string, Set<JobListener>>();

  /** Adds `listener` for job `id`; returns the function that removes it. */
  add(id: string, listener: JobListener): () => void {
    let set = this.byJob.get(id);
    if (set === undefined) {
      set = new Set();
      this.byJob.set(id, set);
    }
    set.add(listener);
    return () => {
      const current = this.byJob.get(id);
      if (current?.delete(listener) === true && current.size === 0) {
        this.byJob.delete(id);
      }
    };
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
    const set = this.byJob.get(job.id);
    if (set !== undefined) {
      for (const listener of [...set]) {
        listener(job);
      }
    }
  }

  clear(): void {
    this.byJob.clear();
  }
}
