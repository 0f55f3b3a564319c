import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "../gen/jobs/v1/job_pb.js";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import type {
  CreateResult,
  FinishResult,
  JobListener,
  JobStore,
  ListPage,
  ListQuery,
  Outcome,
} from "./job-store.js";

/**
 * Keeps jobs in this process's memory: zero set-up, and gone when the process ends.
 * Positions for paging are the jobs' creation order (1, 2, 3, ...).
 */
export function createMemoryJobStore(): JobStore {
  return new MemoryJobStore();
}

class MemoryJobStore implements JobStore {
  /** Jobs in creation order; a job's position is its index + 1. */
  private readonly jobs: Job[] = [];
  private readonly indexById = new Map<string, number>();
  private readonly idByRequestId = new Map<string, string>();
  private readonly listeners = new Map<string, Set<JobListener>>();

  create(job: Job): Promise<CreateResult> {
    if (job.requestId !== "") {
      const earlierId = this.idByRequestId.get(job.requestId);
      if (earlierId !== undefined) {
        return Promise.resolve({ job: this.read(earlierId) as Job, created: false });
      }
      this.idByRequestId.set(job.requestId, job.id);
    }
    this.indexById.set(job.id, this.jobs.length);
    this.jobs.push(job);
    return Promise.resolve({ job, created: true });
  }

  get(id: string): Promise<Job | undefined> {
    return Promise.resolve(this.read(id));
  }

  finish(id: string, outcome: Outcome): Promise<FinishResult | undefined> {
    const index = this.indexById.get(id);
    if (index === undefined) {
      return Promise.resolve(undefined);
    }
    const current = this.jobs[index] as Job;
    if (current.state !== JobState.PENDING) {
      return Promise.resolve({ job: current, changed: false });
    }
    const job: Job = {
      ...current,
      state: outcome.state,
      errorMessage: outcome.errorMessage ?? "",
      updateTime: timestampFromMs(outcome.at),
      version: current.version + 1n,
    };
    this.jobs[index] = job;
    this.notify(job);
    return Promise.resolve({ job, changed: true });
  }

  list(query: ListQuery): Promise<ListPage> {
    const jobs: Job[] = [];
    // Position p is index p - 1; the page continues with the job just older than `after`.
    let index = query.after === undefined ? this.jobs.length - 1 : Math.min(query.after, this.jobs.length + 1) - 2;
    let lastIndex = -1;
    for (; index >= 0 && jobs.length < query.limit; index--) {
      const job = this.jobs[index] as Job;
      if (query.state === undefined || job.state === query.state) {
        jobs.push(job);
        lastIndex = index;
      }
    }
    const more = jobs.length > 0 && this.hasMatchBefore(lastIndex - 1, query.state);
    return Promise.resolve({ jobs, next: more ? lastIndex + 1 : undefined });
  }

  subscribe(id: string, listener: JobListener): () => void {
    let set = this.listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(id);
      if (current?.delete(listener) === true && current.size === 0) {
        this.listeners.delete(id);
      }
    };
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }

  private read(id: string): Job | undefined {
    const index = this.indexById.get(id);
    return index === undefined ? undefined : this.jobs[index];
  }

  private hasMatchBefore(index: number, state: Job["state"] | undefined): boolean {
    for (let i = index; i >= 0; i--) {
      if (state === undefined || (this.jobs[i] as Job).state === state) {
        return true;
      }
    }
    return false;
  }

  private notify(job: Job): void {
    const set = this.listeners.get(job.id);
    if (set === undefined) {
      return;
    }
    for (const listener of [...set]) {
      listener(job);
    }
  }
}
