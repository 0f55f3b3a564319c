import { type Timestamp, timestampFromMs, type Value } from "@bufbuild/protobuf/wkt";
import type { Job, JobState } from "../../gen/jobs/v1/job_pb.js";

/** A job and the caller it belongs to ("" when the server has no API keys). */
export interface StoredJob {
  job: Job;
  owner: string;
}

/** What creating a job found: the new job, or the one made earlier with the same request id. */
export interface CreateResult {
  job: Job;
  /** False when `job` was created earlier by a call with the same request id. */
  created: boolean;
}

/** What finishing or updating a job found: the job as it is now, and whether this call changed it. */
export interface FinishResult {
  job: Job;
  /** False when the job had ended already (or the update asked for no change), so nothing was changed. */
  changed: boolean;
}

/**
 * A change of a pending job that keeps it pending: given the job as stored, the job as it should
 * be (made with changedJob), or undefined for no change. May be called more than once, with
 * newer versions, when another change got in first.
 */
export type JobChange = (job: Job) => Job | undefined;

/** How a pending job ends. */
export interface Outcome {
  state: JobState.COMPLETED | JobState.ERROR | JobState.CANCELLED;
  errorMessage?: string;
  /** What a worker returned, for COMPLETED jobs of a kind. */
  result?: Value;
  /** When it ended, in ms since the epoch. */
  at: number;
}

export interface ListQuery {
  /** Only this caller's jobs. */
  owner: string;
  /** Only jobs in this state; undefined for any state. */
  state?: JobState;
  /** Most jobs returned. */
  limit: number;
  /** Continue after this position (from a previous page's `next`); undefined for the first page. */
  after?: number;
}

export interface ListPage {
  /** Newest first. */
  jobs: Job[];
  /** The position to continue after, or undefined when there is nothing more. */
  next?: number;
}

/** `job` as `outcome` ends it: a new object (stored jobs are never mutated), one version on. */
export function endedJob(job: Job, outcome: Outcome): Job {
  // Copied, then set: V8 does this about three times faster than a spread with overrides for
  // Job's shapes (unset message fields are absent), and 10k jobs ending at once pay it 10k times.
  const ended = Object.assign({}, job);
  ended.state = outcome.state;
  ended.errorMessage = outcome.errorMessage ?? "";
  ended.result = outcome.result;
  ended.held = false;
  ended.updateTime = timestampAt(outcome.at);
  ended.version = job.version + 1n;
  return ended;
}

/** `job` with `fields` changed at `at`: a new object, one version on, still pending. */
export function changedJob(job: Job, fields: Partial<Omit<Job, "$typeName" | "id" | "state" | "version">>, at: number): Job {
  const changed = Object.assign({}, job, fields);
  changed.updateTime = timestampAt(at);
  changed.version = job.version + 1n;
  return changed;
}

let lastTimestamp = timestampFromMs(0);
let lastTimestampMs = 0;

/** The Timestamp of `ms`, shared by the jobs changed in the same millisecond (they are never mutated). */
function timestampAt(ms: number): Timestamp {
  if (ms !== lastTimestampMs) {
    lastTimestamp = timestampFromMs(ms);
    lastTimestampMs = ms;
  }
  return lastTimestamp;
}

/** Called with the job after each change to it. */
export type JobListener = (job: Job) => void;

/**
 * Where jobs live. A job's version grows with every change, and the stored record is the
 * truth: subscribers get a hint that a job changed, and whoever must not miss a change
 * subscribes first and reads second.
 *
 * Jobs handed out are never mutated afterwards; a change stores a new object.
 */
export interface JobStore {
  /**
   * Stores `job` (version 1, PENDING) for `owner`, unless `owner` created a job with the same
   * non-empty request id before (and the store still remembers it), in which case that job is
   * returned and nothing is stored.
   */
  create(job: Job, owner: string): Promise<CreateResult>;
  /** The job with this id and its owner, or undefined. */
  get(id: string): Promise<StoredJob | undefined>;
  /**
   * The job as this instance last wrote or read it, else as get() reads it: possibly stale
   * (another instance may have changed it since), so only for decisions that a compare-and-set
   * checks again, as `seen` of update() or finish(). Saves a read on Redis.
   */
  lastSeen(id: string): Promise<StoredJob | undefined>;
  /**
   * Ends a pending job with `outcome`, raising its version, and tells its subscribers.
   * A job that has ended already is returned unchanged. Undefined when there is no such job.
   * `seen` saves a read, as in update().
   */
  finish(id: string, outcome: Outcome, seen?: StoredJob): Promise<FinishResult | undefined>;
  /**
   * Changes a pending job without ending it (a worker's claim, its progress), compare-and-set on
   * the version, and tells its subscribers. A job that has ended is returned unchanged, as is one
   * `change` leaves alone. Undefined when there is no such job. `seen`, the job as the caller
   * has just read it, may save the store a read: a change tried on it that finds the job changed
   * since is tried again on the job as it is. Without it, the store may try its own last sight
   * of the job first, as lastSeen().
   */
  update(id: string, change: JobChange, seen?: StoredJob): Promise<FinishResult | undefined>;
  /** One page of the owner's jobs, newest first. */
  list(query: ListQuery): Promise<ListPage>;
  /**
   * How many jobs are in each state, by JobState name ("PENDING", "COMPLETED", ...), over all
   * owners; states with none may be missing.
   */
  counts(): Promise<Record<string, number>>;
  /** Calls `listener` after every change of the job until the returned function is called. */
  subscribe(id: string, listener: JobListener): () => void;
  /** Releases what the store holds. Safe to call twice. */
  close(): Promise<void>;
}
