import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "../gen/jobs/v1/job_pb.js";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import { JobListeners } from "./job-listeners.js";
import type {
  CreateResult,
  FinishResult,
  JobListener,
  JobStore,
  ListPage,
  ListQuery,
  Outcome,
  StoredJob,
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
  private readonly jobs: StoredJob[] = [];
  private readonly indexById = new Map<string, number>();
  /** Job ids by owner and request id. */
  private readonly idByRequest = new Map<string, string>();
  private readonly listeners = new JobListeners();
  private readonly byState = new Map<string, number>();

  create(job: Job, owner: string): Promise<CreateResult> {
    if (job.requestId !== "") {
      const requestKey = `${owner}\n${job.requestId}`;
      const earlierId = this.idByRequest.get(requestKey);
      if (earlierId !== undefined) {
        return Promise.resolve({ job: (this.read(earlierId) as StoredJob).job, created: false });
      }
      this.idByRequest.set(requestKey, job.id);
    }
    this.indexById.set(job.id, this.jobs.length);
    this.jobs.push({ job, owner });
    this.count(job.state, 1);
    return Promise.resolve({ job, created: true });
  }

  get(id: string): Promise<StoredJob | undefined> {
    return Promise.resolve(this.read(id));
  }

  finish(id: string, outcome: Outcome): Promise<FinishResult | undefined> {
    const index = this.indexById.get(id);
    if (index === undefined) {
      return Promise.resolve(undefined);
    }
    const stored = this.jobs[index] as StoredJob;
    const current = stored.job;
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
    this.jobs[index] = { job, owner: stored.owner };
    this.count(current.state, -1);
    this.count(job.state, 1);
    this.listeners.tell(job);
    return Promise.resolve({ job, changed: true });
  }

  list(query: ListQuery): Promise<ListPage> {
    const jobs: Job[] = [];
    // Position p is index p - 1; the page continues with the job just older than `after`.
    let index = query.after === undefined ? this.jobs.length - 1 : Math.min(query.after, this.jobs.length + 1) - 2;
    let lastIndex = -1;
    for (; index >= 0 && jobs.length < query.limit; index--) {
      if (this.matches(index, query)) {
        jobs.push((this.jobs[index] as StoredJob).job);
        lastIndex = index;
      }
    }
    const more = jobs.length > 0 && this.hasMatchBefore(lastIndex - 1, query);
    return Promise.resolve({ jobs, next: more ? lastIndex + 1 : undefined });
  }

  counts(): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(this.byState));
  }

  subscribe(id: string, listener: JobListener): () => void {
    return this.listeners.add(id, listener);
  }


  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }

  private count(state: JobState, by: number): void {
    const name = JobState[state];
    this.byState.set(name, (this.byState.get(name) ?? 0) + by);
  }

  private read(id: string): StoredJob | undefined {
    const index = this.indexById.get(id);
    return index === undefined ? undefined : this.jobs[index];
  }

  private matches(index: number, query: ListQuery): boolean {
    const { job, owner } = this.jobs[index] as StoredJob;
    return owner === query.owner && (query.state === undefined || job.state === query.state);
  }

  private hasMatchBefore(index: number, query: ListQuery): boolean {
    for (let i = index; i >= 0; i--) {
      if (this.matches(i, query)) {
        return true;
      }
    }
    return false;
  }
}
