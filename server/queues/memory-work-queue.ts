import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { newLeaseToken } from "./lease-token.js";
import { retryDelayMs } from "./retry-delay.js";
import { staleLease } from "./stale-lease.js";
import type { ClaimRequest, Lease, NextClaim, QueuedJob, WorkQueue, WorkQueueEvents } from "./work-queue.js";

export interface MemoryWorkQueueOptions extends WorkQueueEvents {
  clock: Clock;
  /** @default Math.random */
  random?: () => number;
}

/** A job the queue knows: waiting, leased or backing off. */
interface Entry {
  readonly jobId: string;
  readonly kind: string;
  /** Failures with retryable set so far, for the backoff. */
  failures: number;
  /** Set while a worker holds the job. */
  lease?: { token: string; expiresAt: number; timer: ReturnType<typeof setTimeout> };
  /** Set while the job backs off before its next attempt. */
  backoff?: ReturnType<typeof setTimeout>;
}

/** A held claim, registered under each of its kinds. */
interface Waiter {
  readonly request: ClaimRequest;
  readonly resolve: (lease: Lease | undefined) => void;
}

/**
 * The work queues in this process: per kind, the waiting jobs in the order they came and the
 * claims held in the order they came; a job that arrives goes straight to the oldest claim of
 * its kind. One timer per lease (its expiry) and per job backing off; none per idle claim
 * beyond its own wait.
 */
export function createMemoryWorkQueue(options: MemoryWorkQueueOptions): WorkQueue {
  return new MemoryWorkQueue(options);
}

class MemoryWorkQueue implements WorkQueue {
  private readonly entries = new Map<string, Entry>();
  /** Waiting jobs by kind; a Map keeps insertion order, so its first key is the oldest. */
  private readonly waiting = new Map<string, Map<string, number>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private arrivals = 0;
  private closed = false;

  constructor(private readonly options: MemoryWorkQueueOptions) {}

  enqueue(job: Job): Promise<void> {
    if (!this.closed && !this.entries.has(job.id)) {
      const entry: Entry = { jobId: job.id, kind: job.kind, failures: 0 };
      this.entries.set(job.id, entry);
      this.arrive(entry);
    }
    return Promise.resolve();
  }

  claim(request: ClaimRequest): Promise<Lease | undefined> {
    if (this.closed || request.signal.aborted) {
      return Promise.resolve(undefined);
    }
    const oldest = this.oldestWaiting(request.kinds);
    if (oldest !== undefined) {
      return Promise.resolve(this.lease(oldest, request.leaseMs));
    }
    if (!request.hold) {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        request,
        resolve: (lease) => {
          request.signal.removeEventListener("abort", onAbort);
          this.forgetWaiter(waiter);
          resolve(lease);
        },
      };
      const onAbort = (): void => waiter.resolve(undefined);
      request.signal.addEventListener("abort", onAbort, { once: true });
      for (const kind of request.kinds) {
        let set = this.waiters.get(kind);
        if (set === undefined) {
          set = new Set();
          this.waiters.set(kind, set);
        }
        set.add(waiter);
      }
    });
  }

  async extend({ id }: QueuedJob, token: string, leaseMs: number): Promise<number> {
    const entry = this.leased(id, token);
    const lease = entry.lease as NonNullable<Entry["lease"]>;
    clearTimeout(lease.timer);
    lease.expiresAt = this.options.clock.now() + leaseMs;
    lease.timer = this.expiryTimer(entry, leaseMs);
    return lease.expiresAt;
  }

  async release({ id }: QueuedJob, token: string, next?: NextClaim): Promise<Lease | undefined> {
    const entry = this.leased(id, token);
    clearTimeout(entry.lease?.timer);
    this.entries.delete(id);
    if (next === undefined || this.closed) {
      return undefined;
    }
    const oldest = this.oldestWaiting(next.kinds);
    return oldest === undefined ? undefined : this.lease(oldest, next.leaseMs);
  }

  async retry({ id }: QueuedJob, token: string): Promise<boolean> {
    const entry = this.leased(id, token);
    clearTimeout(entry.lease?.timer);
    entry.lease = undefined;
    entry.failures++;
    const timer = setTimeout(
      () => {
        entry.backoff = undefined;
        this.arrive(entry);
      },
      retryDelayMs(entry.failures, this.options.random),
    );
    entry.backoff = timer;
    return true;
  }

  remove({ id }: QueuedJob): Promise<void> {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.lease === undefined) {
      clearTimeout(entry.backoff);
      this.waiting.get(entry.kind)?.delete(id);
      this.entries.delete(id);
    }
    return Promise.resolve();
  }

  depths(): Promise<Record<string, number>> {
    const depths: Record<string, number> = {};
    for (const entry of this.entries.values()) {
      if (entry.lease === undefined) {
        depths[entry.kind] = (depths[entry.kind] ?? 0) + 1;
      }
    }
    return Promise.resolve(depths);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) {
      clearTimeout(entry.lease?.timer);
      clearTimeout(entry.backoff);
    }
    this.entries.clear();
    this.waiting.clear();
    for (const set of [...this.waiters.values()]) {
      for (const waiter of [...set]) {
        waiter.resolve(undefined);
      }
    }
    return Promise.resolve();
  }

  /** A job is ready for a worker: the oldest claim of its kind takes it, else it waits its turn. */
  private arrive(entry: Entry): void {
    const waiter = this.waiters.get(entry.kind)?.values().next().value;
    if (waiter !== undefined) {
      waiter.resolve(this.lease(entry, waiter.request.leaseMs));
      return;
    }
    let queue = this.waiting.get(entry.kind);
    if (queue === undefined) {
      queue = new Map();
      this.waiting.set(entry.kind, queue);
    }
    queue.set(entry.jobId, ++this.arrivals);
  }

  /** The job that has waited longest among `kinds`, taken off its queue. */
  private oldestWaiting(kinds: readonly string[]): Entry | undefined {
    let best: { kind: string; jobId: string; at: number } | undefined;
    for (const kind of kinds) {
      const first = this.waiting.get(kind)?.entries().next().value;
      if (first !== undefined && (best === undefined || first[1] < best.at)) {
        best = { kind, jobId: first[0], at: first[1] };
      }
    }
    if (best === undefined) {
      return undefined;
    }
    const queue = this.waiting.get(best.kind) as Map<string, number>;
    queue.delete(best.jobId);
    if (queue.size === 0) {
      this.waiting.delete(best.kind);
    }
    return this.entries.get(best.jobId);
  }

  private lease(entry: Entry, leaseMs: number): Lease {
    const token = newLeaseToken(leaseMs);
    const expiresAt = this.options.clock.now() + leaseMs;
    entry.lease = { token, expiresAt, timer: this.expiryTimer(entry, leaseMs) };
    return { jobId: entry.jobId, kind: entry.kind, token, expiresAt };
  }

  private expiryTimer(entry: Entry, leaseMs: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      entry.lease = undefined;
      this.arrive(entry);
      this.options.onLeaseExpired(entry.jobId);
    }, leaseMs);
  }

  /** The entry of a job leased with `token`, else FAILED_PRECONDITION. */
  private leased(jobId: string, token: string): Entry {
    const entry = this.entries.get(jobId);
    if (entry?.lease === undefined || entry.lease.token !== token) {
      throw staleLease(jobId);
    }
    return entry;
  }

  private forgetWaiter(waiter: Waiter): void {
    for (const kind of waiter.request.kinds) {
      const set = this.waiters.get(kind);
      set?.delete(waiter);
      if (set?.size === 0) {
        this.waiters.delete(kind);
      }
    }
  }
}
