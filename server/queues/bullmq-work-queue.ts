import { Code, ConnectError } from "@connectrpc/connect";
import { Job as BullJob, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { settleWithin } from "../settle-within.js";
import { leaseMsOf, newLeaseToken } from "./lease-token.js";
import { retryDelayMs } from "./retry-delay.js";
import { staleLease } from "./stale-lease.js";
import type { ClaimRequest, Lease, NextClaim, QueuedJob, WorkQueue, WorkQueueEvents } from "./work-queue.js";

export interface BullmqWorkQueueOptions extends WorkQueueEvents {
  clock: Clock;
  /** For the workers' commands; BullMQ duplicates it once per kind for its blocking reads. Not closed here. */
  connection: Redis;
  /** For adding jobs and reading counts: one that fails fast while Redis is away. Not closed here. */
  queueConnection: Redis;
  /** BullMQ's key prefix. */
  prefix: string;
  /** The lease of a claim before it is extended, in ms: BullMQ's lockDuration. */
  defaultLeaseMs: number;
  /** How often leases are checked for expiry, in ms: BullMQ's stalledInterval. */
  leaseCheckMs: number;
  /** The longest each step of close() waits for Redis, in ms. @default 2_000 */
  closeStepMs?: number;
}

/** The most kinds one instance serves at once: one BullMQ worker (one blocking connection) each. */
export const MAX_KINDS_PER_INSTANCE = 64;
/** How long an idle fetch blocks in Redis before it looks again whether anyone still waits, in s. */
const FETCH_BLOCK_S = 2;
/** The pause after a fetch that failed (Redis away) before the next, in ms. */
const FETCH_RETRY_MS = 500;
/** BullMQ's name of our custom backoff, which calls retryDelayMs. */
const BACKOFF_TYPE = "jobs-retry";

/** A held claim, registered under each of its kinds. */
interface Waiter {
  readonly request: ClaimRequest;
  readonly resolve: (lease: Lease | undefined) => void;
}

/** One kind's BullMQ queue, and its worker once this instance has claimed that kind. */
interface Lane {
  readonly kind: string;
  readonly queue: Queue;
  worker?: Worker;
  readonly waiters: Set<Waiter>;
  fetching: boolean;
}

/**
 * The work queues on BullMQ, shared by every instance on the same Redis: one BullMQ queue per
 * kind, used through BullMQ's manual processing. A claim is a lease token handed to
 * `getNextJob` (BullMQ's lock token); heartbeats extend BullMQ's lock; completing releases it;
 * retries are BullMQ's own (job `attempts`, a custom backoff that calls retryDelayMs), and a lost
 * lease is BullMQ's stalled job, moved back to wait by its stalled-job checker.
 *
 * Held claims cost no Redis connection each: they wait in this process, and per kind one fetch
 * at a time blocks in Redis (BullMQ's marker wait: woken by a job's arrival) while any claim of
 * that kind is held, handing each job to the oldest claim. A job fetched after its claim left is
 * given back (moveToWait).
 *
 * BullMQ's lock checks and stalled jobs are its own: lockDuration is the default lease,
 * maxStalledCount is left high so that the job record (not BullMQ) decides when attempts run out.
 */
export function createBullmqWorkQueue(options: BullmqWorkQueueOptions): WorkQueue {
  return new BullmqWorkQueue(options);
}

class BullmqWorkQueue implements WorkQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly closeStepMs: number;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BullmqWorkQueueOptions) {
    this.closeStepMs = options.closeStepMs ?? 2_000;
  }

  async enqueue(job: Job): Promise<void> {
    const lane = this.lane(job.kind);
    try {
      // A BullMQ job with this id exists already when the job was queued before: no second one.
      await lane.queue.add("work", {}, { ...jobOptions(job.maxAttempts), jobId: job.id });
    } catch (error) {
      throw new ConnectError("the work queue is unavailable", Code.Unavailable, undefined, undefined, error);
    }
  }

  claim(request: ClaimRequest): Promise<Lease | undefined> {
    if (this.closing !== undefined || request.signal.aborted) {
      return Promise.resolve(undefined);
    }
    const lanes = request.kinds.map((kind) => this.lane(kind));
    if (!request.hold) {
      return this.claimNow(lanes, request.leaseMs);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        request,
        resolve: (lease) => {
          request.signal.removeEventListener("abort", onAbort);
          for (const lane of lanes) {
            lane.waiters.delete(waiter);
          }
          resolve(lease);
        },
      };
      const onAbort = (): void => waiter.resolve(undefined);
      request.signal.addEventListener("abort", onAbort, { once: true });
      for (const lane of lanes) {
        lane.waiters.add(waiter);
        this.fetchFor(lane);
      }
    });
  }

  async extend({ id, kind }: QueuedJob, token: string, leaseMs: number): Promise<number> {
    // A Job made from its id alone: extendLock sends nothing else (BullMQ 6.7; check at upgrades).
    const job = new BullJob(this.lane(kind).queue, "work", {}, {}, id);
    const extended = await this.guard(job.extendLock(token, leaseMs));
    if (extended !== 1) {
      throw staleLease(id);
    }
    return this.options.clock.now() + leaseMs;
  }

  async release(queued: QueuedJob, token: string, next?: NextClaim): Promise<Lease | undefined> {
    // The next job of the same kind comes with the release (BullMQ's fetchNext, as its own
    // workers take theirs: one round trip, not two) when it may carry this token, which BullMQ
    // locks it with: the token's lease must be the one asked.
    const fetchNext =
      next !== undefined && this.closing === undefined && next.kinds.includes(queued.kind) && leaseMsOf(token) === next.leaseMs;
    // Made from what we know of it rather than read (one round trip less). This leans on what
    // BullMQ 6.7's moveToFinishedArgs reads of a Job, its id and opts only: check at each upgrade.
    const job = new BullJob(this.workerOf(this.lane(queued.kind)), "work", {}, jobOptions(queued.maxAttempts ?? 1), queued.id);
    const completed = await this.finished(queued.id, job.moveToCompleted(null, token, fetchNext));
    if (next === undefined) {
      return undefined;
    }
    // A job fetched is leased by now, closing or not: it goes to the worker.
    const fetchedId = fetchNext ? fetchedJobId(completed) : undefined;
    if (fetchedId !== undefined) {
      return this.leaseFetched(queued.kind, fetchedId, token, next.leaseMs);
    }
    // None of this kind waited (or none was asked for here): the others are asked one by one.
    const others = fetchNext ? next.kinds.filter((kind) => kind !== queued.kind) : next.kinds;
    return others.length === 0 || this.closing !== undefined
      ? undefined
      : this.claimNow(
          others.map((kind) => this.lane(kind)),
          next.leaseMs,
        );
  }

  async retry(queued: QueuedJob, token: string, errorMessage: string): Promise<boolean> {
    const job = await this.heldJob(queued);
    await this.finished(queued.id, job.moveToFailed(new Error(errorMessage), token, false));
    // BullMQ retried it if it had attempts left by its count of failures (counted by the move).
    return job.attemptsMade < (job.opts.attempts ?? 1);
  }

  async remove({ id, kind }: QueuedJob): Promise<void> {
    // A job a worker holds is not removed (BullMQ keeps locked jobs): its worker learns of the
    // end from its next heartbeat.
    await this.guard(this.lane(kind).queue.remove(id));
  }

  async depths(): Promise<Record<string, number>> {
    const depths: Record<string, number> = {};
    for (const lane of this.lanes.values()) {
      const counts = await this.guard(lane.queue.getJobCounts("wait", "delayed", "prioritized"));
      depths[lane.kind] = Object.values(counts).reduce((sum, count) => sum + count, 0);
    }
    return depths;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const lane of this.lanes.values()) {
        for (const waiter of [...lane.waiters]) {
          waiter.resolve(undefined);
        }
      }
      // Forced: the blocked fetches are cut rather than waited for, and nothing held is lost (a
      // lease held by a worker stays in Redis; the worker goes on through another instance).
      await Promise.all(
        [...this.lanes.values()].map(async (lane) => {
          if (lane.worker !== undefined) {
            await settleWithin(lane.worker.close(true), this.closeStepMs);
          }
          await settleWithin(lane.queue.close(), this.closeStepMs);
        }),
      );
    })();
    return this.closing;
  }

  /** A job waiting now in one of `lanes`, fetched without blocking; undefined when there is none. */
  private async claimNow(lanes: readonly Lane[], leaseMs: number): Promise<Lease | undefined> {
    for (const lane of lanes) {
      const token = newLeaseToken(leaseMs);
      const job = await this.guard(this.workerOf(lane).getNextJob(token, { block: false }));
      if (job?.id !== undefined) {
        if (leaseMs !== this.options.defaultLeaseMs) {
          await this.guard(job.extendLock(token, leaseMs));
        }
        return { jobId: job.id, kind: lane.kind, token, expiresAt: this.options.clock.now() + leaseMs };
      }
    }
    return undefined;
  }

  /**
   * The lease of a job BullMQ locked with `token` for the default lease, once its lock lasts
   * `leaseMs`. The completion it came with stands whatever happens here: a lock that cannot be
   * moved on gives the job back to the queue (or, with Redis away, to the stalled-job check).
   */
  private async leaseFetched(kind: string, jobId: string, token: string, leaseMs: number): Promise<Lease | undefined> {
    const job = new BullJob(this.workerOf(this.lane(kind)), "work", {}, {}, jobId);
    try {
      if (leaseMs !== this.options.defaultLeaseMs && (await job.extendLock(token, leaseMs)) !== 1) {
        return undefined;
      }
    } catch (error) {
      this.options.onError(error, jobId);
      await job.moveToWait(token).catch((cause: unknown) => this.options.onError(cause, jobId));
      return undefined;
    }
    return { jobId, kind, token, expiresAt: this.options.clock.now() + leaseMs };
  }

  /** The lane of `kind`, made on first use. */
  private lane(kind: string): Lane {
    let lane = this.lanes.get(kind);
    if (lane === undefined) {
      if (this.lanes.size >= MAX_KINDS_PER_INSTANCE) {
        throw new ConnectError(
          `this server serves at most ${MAX_KINDS_PER_INSTANCE} kinds of job at once`,
          Code.ResourceExhausted,
        );
      }
      // skipWaitingForReady and skipVersionCheck: nothing is sent before the first add, so that an
      // add while Redis is away fails fast instead of waiting for it.
      const queue = new Queue(queueName(kind), {
        connection: this.options.queueConnection,
        prefix: this.options.prefix,
        skipWaitingForReady: true,
        skipVersionCheck: true,
        skipMetasUpdate: true,
      });
      queue.on("error", (error) => this.options.onError(error));
      lane = { kind, queue, waiters: new Set(), fetching: false };
      this.lanes.set(kind, lane);
    }
    return lane;
  }

  /** The worker of a lane, made (and its stalled-job checker started) on first use. */
  private workerOf(lane: Lane): Worker {
    if (lane.worker === undefined) {
      const worker = new Worker(queueName(lane.kind), undefined, {
        connection: this.options.connection,
        prefix: this.options.prefix,
        autorun: false,
        lockDuration: this.options.defaultLeaseMs,
        stalledInterval: this.options.leaseCheckMs,
        // The job record counts attempts; BullMQ only puts stalled jobs back.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        drainDelay: FETCH_BLOCK_S,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade) },
      });
      worker.on("error", (error) => this.options.onError(error));
      worker.on("stalled", (jobId) => this.options.onLeaseExpired(jobId));
      void worker.startStalledCheckTimer().catch((error: unknown) => this.options.onError(error));
      lane.worker = worker;
    }
    return lane.worker;
  }

  /**
   * While claims of the lane's kind are held, fetches one job at a time, blocking in Redis until
   * one comes, and hands each to the oldest claim.
   */
  private fetchFor(lane: Lane): void {
    if (lane.fetching) {
      return;
    }
    lane.fetching = true;
    const worker = this.workerOf(lane);
    void (async () => {
      while (lane.waiters.size > 0 && this.closing === undefined) {
        // The token is made before the fetch, with the oldest claim's lease: BullMQ locks the job with it.
        const oldest = lane.waiters.values().next().value as Waiter;
        const token = newLeaseToken(oldest.request.leaseMs);
        let job: BullJob | undefined;
        try {
          job = await worker.getNextJob(token, { block: true });
        } catch (error) {
          this.options.onError(error);
          await new Promise((resolve) => setTimeout(resolve, FETCH_RETRY_MS));
          continue;
        }
        if (job?.id !== undefined) {
          await this.handOut(lane, job, token);
        }
      }
      lane.fetching = false;
    })();
  }

  private async handOut(lane: Lane, job: BullJob, token: string): Promise<void> {
    const jobId = job.id as string;
    const leaseMs = leaseMsOf(token) as number;
    // The oldest claim whose lease is the token's; a claim with another lease is served by the next fetch.
    const waiter = [...lane.waiters].find((candidate) => candidate.request.leaseMs === leaseMs);
    try {
      if (waiter === undefined) {
        // Its claim left while the fetch was under way: back to the queue.
        await job.moveToWait(token);
        return;
      }
      if (leaseMs !== this.options.defaultLeaseMs) {
        await job.extendLock(token, leaseMs);
      }
      waiter.resolve({ jobId, kind: lane.kind, token, expiresAt: this.options.clock.now() + leaseMs });
    } catch (error) {
      // Redis went away meanwhile: the lock runs out and the stalled-job check puts the job back.
      this.options.onError(error, jobId);
    }
  }

  /** The BullMQ job with its options (attempts, backoff, removal), read through the kind's worker. */
  private async heldJob({ id, kind }: QueuedJob): Promise<BullJob> {
    const job = await this.guard(BullJob.fromId(this.workerOf(this.lane(kind)), id));
    if (job === undefined) {
      throw staleLease(id);
    }
    return job;
  }

  /** BullMQ's "missing lock" and "not in the active state" are a stale token. */
  private async finished<T>(jobId: string, pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      if (error instanceof Error && /lock|not in the active state|does not exist/i.test(error.message)) {
        throw staleLease(jobId);
      }
      throw new ConnectError("the work queue is unavailable", Code.Unavailable, undefined, undefined, error);
    }
  }

  private async guard<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      throw new ConnectError("the work queue is unavailable", Code.Unavailable, undefined, undefined, error);
    }
  }
}

/** The BullMQ options of every job: ours decide its attempts; BullMQ keeps nothing once it ends. */
function jobOptions(maxAttempts: number) {
  return { attempts: maxAttempts, backoff: { type: BACKOFF_TYPE }, removeOnComplete: true, removeOnFail: true };
}

/**
 * The id of the job a move to completed with fetchNext locked, if one waited. This leans on the
 * raw answer of BullMQ 6.7's moveToFinished script, [job fields, job id, rate limit delay, delay
 * until] (what its Worker.handleCompleted reads), and on the job being locked with the
 * completing token for the worker's lockDuration: check both at each upgrade.
 */
function fetchedJobId(completed: unknown): string | undefined {
  if (!Array.isArray(completed) || !completed[0]) {
    return undefined;
  }
  const id: unknown = completed[1];
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** BullMQ forbids ":" in queue names; kinds never have one. */
function queueName(kind: string): string {
  return `work.${kind}`;
}
