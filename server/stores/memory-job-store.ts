import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { SERVICE_DEFAULTS } from "../server-options.js";
import { ExpiryQueue } from "./expiry-queue.js";
import { type IndexedJob, JobIndexes } from "./job-indexes.js";
import { JobListeners } from "./job-listeners.js";
import type {
  CreateResult,
  FinishResult,
  JobChange,
  JobListener,
  JobStore,
  ListPage,
  ListQuery,
  Outcome,
  StoredJob,
} from "./job-store.js";
import { endedJob } from "./job-store.js";

export interface MemoryJobStoreOptions {
  /** How long an ended job is kept, counted from when the store ended it, in ms; 0 keeps it for ever. @default 86_400_000 */
  retentionMs?: number;
  /** How long a request id is remembered, counted from the create that used it, in ms. @default 86_400_000 */
  idempotencyTtlMs?: number;
  /**
   * The most ended jobs kept, and request ids remembered: past it the oldest go first, before
   * their time, so that memory stays bounded whatever the rate of jobs. @default 100_000
   */
  maxEndedJobs?: number;
  /** The time retention and request ids count by. @default Date */
  clock?: Clock;
}

/** The memory store as its tests and benchmarks see it: a JobStore that shows what it holds. */
export interface MemoryJobStore extends JobStore {
  /** What the store holds now, without expiring anything first. */
  held(): { jobs: number; requestIds: number };
  /** Index entries list() has read since the store was made: a page costs about a page. */
  readonly listReads: number;
}

/**
 * Keeps jobs in this process's memory: zero set-up, and gone when the process ends.
 * Positions for paging are the jobs' creation order (1, 2, 3, ...).
 *
 * Ended jobs leave after `retentionMs` and request ids after `idempotencyTtlMs`, as in the Redis
 * store, and sooner when more than `maxEndedJobs` of either are held (oldest first); pending
 * jobs stay. Each call first expires what is due, so reads see expiry on time;
 * one unref'd timer gives the memory back when no calls come. Unlike Redis, whose counts cannot
 * see a key expire, counts() counts only the jobs still held.
 */
export function createMemoryJobStore(options: MemoryJobStoreOptions = {}): MemoryJobStore {
  return new InMemoryJobStore(resolveOptions(options));
}

/** The timer sweeps at most this often: memory comes back within about this long of expiry. */
const SWEEP_EVERY_MS = 1_000;
/** setTimeout fires at once when asked to wait longer than this. */
const MAX_TIMER_MS = 2_147_483_647;

function resolveOptions(options: MemoryJobStoreOptions): Required<MemoryJobStoreOptions> {
  const resolved = {
    retentionMs: options.retentionMs ?? SERVICE_DEFAULTS.jobRetentionMs,
    idempotencyTtlMs: options.idempotencyTtlMs ?? SERVICE_DEFAULTS.idempotencyTtlMs,
    maxEndedJobs: options.maxEndedJobs ?? SERVICE_DEFAULTS.maxEndedJobs,
    clock: options.clock ?? Date,
  };
  for (const name of ["retentionMs", "idempotencyTtlMs", "maxEndedJobs"] as const) {
    if (!Number.isFinite(resolved[name]) || resolved[name] < 0) {
      throw new RangeError(`${name} must be a finite number >= 0, got ${resolved[name]}`);
    }
  }
  return resolved;
}

/** A remembered request id: `key` is the owner's and the request id, `id` the job it made. */
interface RequestMemo {
  readonly key: string;
  readonly id: string;
}

class InMemoryJobStore implements MemoryJobStore {
  private readonly entries = new Map<string, IndexedJob>();
  private readonly indexes = new JobIndexes();
  private readonly requests = new Map<string, RequestMemo>();
  /** Ended jobs in the order they end, which is the order they expire in. */
  private readonly endedQueue = new ExpiryQueue<IndexedJob>();
  /** Request ids in the order they were made, which is the order they expire in. */
  private readonly requestQueue = new ExpiryQueue<RequestMemo>();
  private readonly listeners = new JobListeners();
  private readonly byState = new Map<string, number>();
  private lastPosition = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private closed = false;

  constructor(private readonly options: Required<MemoryJobStoreOptions>) {}

  create(job: Job, owner: string): Promise<CreateResult> {
    const now = this.expire();
    if (job.requestId !== "") {
      const key = `${owner}\n${job.requestId}`;
      const earlier = this.requests.get(key);
      const earlierEntry = earlier === undefined ? undefined : this.entries.get(earlier.id);
      if (earlierEntry !== undefined) {
        return Promise.resolve({ job: earlierEntry.job, created: false });
      }
      // As in Redis, a request id whose job has gone (retention) makes a new job.
      const memo: RequestMemo = { key, id: job.id };
      this.requests.set(key, memo);
      this.requestQueue.push(memo, now + Math.max(1, this.options.idempotencyTtlMs));
      this.trim();
      this.schedule();
    }
    const entry: IndexedJob = { job, owner, position: ++this.lastPosition };
    this.entries.set(job.id, entry);
    this.indexes.add(entry);
    this.count(job.state, 1);
    return Promise.resolve({ job, created: true });
  }

  get(id: string): Promise<StoredJob | undefined> {
    this.expire();
    return Promise.resolve(this.entries.get(id));
  }

  /** The store is this process's memory: what it holds is never stale. */
  lastSeen(id: string): Promise<StoredJob | undefined> {
    return this.get(id);
  }

  finish(id: string, outcome: Outcome): Promise<FinishResult | undefined> {
    const now = this.expire();
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return Promise.resolve(undefined);
    }
    const current = entry.job;
    if (current.state !== JobState.PENDING) {
      return Promise.resolve({ job: current, changed: false });
    }
    const job = endedJob(current, outcome);
    const ended: IndexedJob = { job, owner: entry.owner, position: entry.position };
    this.entries.set(id, ended);
    this.indexes.replace(entry, ended);
    this.count(current.state, -1);
    this.count(job.state, 1);
    // Counted from the store's clock, as Redis counts a PEXPIRE from the finish. Kept for ever
    // (retention 0) still counts against maxEndedJobs.
    this.endedQueue.push(ended, this.options.retentionMs > 0 ? now + this.options.retentionMs : Number.POSITIVE_INFINITY);
    this.trim();
    this.schedule();
    this.listeners.tell(job);
    return Promise.resolve({ job, changed: true });
  }

  update(id: string, change: JobChange): Promise<FinishResult | undefined> {
    this.expire();
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return Promise.resolve(undefined);
    }
    const job = entry.job.state === JobState.PENDING ? change(entry.job) : undefined;
    if (job === undefined) {
      return Promise.resolve({ job: entry.job, changed: false });
    }
    const changed: IndexedJob = { job, owner: entry.owner, position: entry.position };
    this.entries.set(id, changed);
    this.indexes.replace(entry, changed);
    this.listeners.tell(job);
    return Promise.resolve({ job, changed: true });
  }

  list(query: ListQuery): Promise<ListPage> {
    this.expire();
    return Promise.resolve(this.indexes.page(query));
  }

  counts(): Promise<Record<string, number>> {
    this.expire();
    return Promise.resolve(Object.fromEntries(this.byState));
  }

  subscribe(id: string, listener: JobListener): () => void {
    return this.listeners.add(id, listener);
  }

  get listReads(): number {
    return this.indexes.pageReads;
  }

  held(): { jobs: number; requestIds: number } {
    return { jobs: this.entries.size, requestIds: this.requests.size };
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    return Promise.resolve();
  }

  /** Removes the ended jobs and request ids due by now, oldest first; returns now. */
  private expire(): number {
    const now = this.options.clock.now();
    for (let entry = this.endedQueue.shiftDue(now); entry !== undefined; entry = this.endedQueue.shiftDue(now)) {
      this.remove(entry);
    }
    for (let memo = this.requestQueue.shiftDue(now); memo !== undefined; memo = this.requestQueue.shiftDue(now)) {
      this.forget(memo);
    }
    return now;
  }

  /** Past maxEndedJobs, the oldest ended jobs and request ids go before their time. */
  private trim(): void {
    const max = this.options.maxEndedJobs;
    while (this.endedQueue.size > max) {
      this.remove(this.endedQueue.shift() as IndexedJob);
    }
    while (this.requestQueue.size > max) {
      this.forget(this.requestQueue.shift() as RequestMemo);
    }
  }

  private forget(memo: RequestMemo): void {
    // A request id whose job had gone was made again since: that later memo stays.
    if (this.requests.get(memo.key) === memo) {
      this.requests.delete(memo.key);
    }
  }

  /** An ended job's retention is over: no one is told, since it can no longer change. */
  private remove(entry: IndexedJob): void {
    const id = entry.job.id;
    if (this.entries.get(id) !== entry) {
      return;
    }
    this.entries.delete(id);
    this.indexes.remove(entry);
    this.count(entry.job.state, -1);
  }

  /** Keeps one timer for the earliest due time while anything is due, at most one per SWEEP_EVERY_MS. */
  private schedule(): void {
    const due = Math.min(this.endedQueue.nextDue, this.requestQueue.nextDue);
    if (this.closed || due === Number.POSITIVE_INFINITY) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    const now = this.options.clock.now();
    const at = Math.max(due, now + SWEEP_EVERY_MS);
    if (this.timer !== undefined && this.timerAt <= at) {
      return;
    }
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.expire();
        this.schedule();
      },
      Math.min(at - now, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  private count(state: JobState, by: number): void {
    const name = JobState[state];
    this.byState.set(name, (this.byState.get(name) ?? 0) + by);
  }
}
