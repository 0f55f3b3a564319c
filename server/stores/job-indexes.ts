import type { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { ListPage, ListQuery, StoredJob } from "./job-store.js";
import { PositionIndex } from "./position-index.js";

/** A stored job and its position (creation order, from 1). Replaced when the job changes, never changed. */
export interface IndexedJob extends StoredJob {
  readonly position: number;
}

/** One owner's jobs by position: all of them, and those in each state. */
interface OwnerIndex {
  all: PositionIndex<IndexedJob>;
  byState: Map<JobState, PositionIndex<IndexedJob>>;
}

/**
 * Each owner's jobs by position, all of them and by state, so that a page of a listing reads
 * about a page of entries (plus O(log n) to find its start), whatever else the store holds.
 */
export class JobIndexes {
  private readonly owners = new Map<string, OwnerIndex>();
  private reads = 0;

  /** Index entries page() has read so far. */
  get pageReads(): number {
    return this.reads;
  }

  add(job: IndexedJob): void {
    let index = this.owners.get(job.owner);
    if (index === undefined) {
      index = { all: new PositionIndex(), byState: new Map() };
      this.owners.set(job.owner, index);
    }
    index.all.set(job.position, job);
    this.stateIndex(index, job.job.state).set(job.position, job);
  }

  /** Puts `job` where `old`, the same job before its change, was: a new state moves it between indexes. */
  replace(old: IndexedJob, job: IndexedJob): void {
    const index = this.owners.get(old.owner) as OwnerIndex;
    index.all.set(job.position, job);
    this.unindexState(index, old.job.state, old.position);
    this.stateIndex(index, job.job.state).set(job.position, job);
  }

  remove(job: IndexedJob): void {
    const index = this.owners.get(job.owner) as OwnerIndex;
    index.all.delete(job.position);
    this.unindexState(index, job.job.state, job.position);
    if (index.all.size === 0) {
      this.owners.delete(job.owner);
    }
  }

  page(query: ListQuery): ListPage {
    const index = this.owners.get(query.owner);
    const positions = query.state === undefined ? index?.all : index?.byState.get(query.state);
    if (positions === undefined) {
      return { jobs: [] };
    }
    const page = positions.page(query.limit, query.after);
    this.reads += page.reads;
    return { jobs: page.values.map((entry) => entry.job), next: page.next };
  }

  private stateIndex(index: OwnerIndex, state: JobState): PositionIndex<IndexedJob> {
    let positions = index.byState.get(state);
    if (positions === undefined) {
      positions = new PositionIndex();
      index.byState.set(state, positions);
    }
    return positions;
  }

  private unindexState(index: OwnerIndex, state: JobState, position: number): void {
    const positions = index.byState.get(state);
    positions?.delete(position);
    if (positions?.size === 0) {
      index.byState.delete(state);
    }
  }
}
