import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Job, JobState } from "../../gen/jobs/v1/job_pb.js";
import {
  type ClaimJobRequest,
  type ClaimJobResponse,
  ClaimJobResponseSchema,
  type CompleteJobRequest,
  type CompleteJobResponse,
  CompleteJobResponseSchema,
  FailJobResponseSchema,
  HeartbeatResponseSchema,
  type WorkerService,
} from "../../gen/jobs/v1/worker_service_pb.js";
import type { Clock } from "../clock.js";
import { leaseMsOf } from "../queues/lease-token.js";
import { staleLease } from "../queues/stale-lease.js";
import type { Lease, NextClaim, QueuedJob, WorkQueue } from "../queues/work-queue.js";
import { refuseIfFull } from "../service/refuse-if-full.js";
import { readDuration, readJobId } from "../service/request-fields.js";
import { callOfContext, type RpcCall, type RpcHandler } from "../service/rpc-call.js";
import {
  readErrorMessage,
  readKinds,
  readLeaseMs,
  readLeaseToken,
  readPayload,
  readProgress,
  readWorkerId,
} from "../service/work-fields.js";
import { changedJob, type JobStore, type Outcome, type StoredJob } from "../stores/job-store.js";
import type { HeldWaits } from "../waits/held-waits.js";
import { holdTimeMs } from "../waits/hold-time.js";
import type { ProgressCoalescer } from "./progress-coalescer.js";

export interface WorkerServiceOptions {
  store: JobStore;
  queue: WorkQueue;
  clock: Clock;
  /** Held claims count with long waits and watches: the same caps, released when the server closes. */
  heldWaits: HeldWaits;
  progress: ProgressCoalescer;
  /** The longest a claim is held, in ms (MAX_WAIT). */
  maxWaitMs: number;
  defaultLeaseMs: number;
  maxLeaseMs: number;
  /** The largest result, as JSON, in bytes. */
  maxPayloadBytes: number;
  /** Told of each job handed to a worker, with the time from its creation for a first attempt. */
  onClaimed?: (job: Job, sinceCreateMs: number | undefined) => void;
  /** Told of each attempt failed with retryable set and queued again. */
  onRetried?: (job: Job) => void;
  /** Told of failures no caller sees. */
  onError: (error: unknown, jobId?: string) => void;
  /**
   * Whether the backend (Redis) is reachable now: a claim, which waits in this process, fails
   * fast with UNAVAILABLE while it is not, as every call that reads the store does. @default always
   */
  available?: () => boolean;
}

export type ClaimJob = RpcHandler<ClaimJobRequest, ClaimJobResponse>;
export type CompleteJob = RpcHandler<CompleteJobRequest, CompleteJobResponse>;

export interface WorkerServiceParts {
  /** The WorkerService handlers, for a Connect router. */
  impl: ServiceImpl<typeof WorkerService>;
  claimJob: ClaimJob;
  completeJob: CompleteJob;
  /**
   * What the queue's lease expiry calls: a job whose lease ran out on its last attempt ends in
   * ERROR; others wait in the queue for their next attempt.
   */
  leaseExpired(jobId: string): Promise<void>;
  /** How many claims are held now, waiting for a job. */
  heldClaims(): number;
}

/** The WorkerService handlers over a store (the truth of each job) and a work queue (who holds it). */
export function createWorkerService(options: WorkerServiceOptions): WorkerServiceParts {
  const { store, queue, clock, heldWaits, progress, maxWaitMs, defaultLeaseMs, maxLeaseMs, maxPayloadBytes, onError } = options;
  let heldClaims = 0;

  /** The job with this id, and its owner, else NOT_FOUND. Workers see jobs of every owner. */
  async function readStored(jobId: string): Promise<StoredJob> {
    const stored = await store.get(jobId);
    if (stored === undefined) {
      throw new ConnectError(`job ${jobId} not found`, Code.NotFound);
    }
    return stored;
  }

  async function readJob(jobId: string): Promise<Job> {
    return (await readStored(jobId)).job;
  }

  /**
   * Lets go of a lease whose job has ended, and with `next` leases a job waiting now, as the
   * release can (WorkQueue.release). A token that is not the lease changes nothing: released false.
   */
  async function letGo(job: QueuedJob, token: string, next?: NextClaim): Promise<{ released: boolean; next?: Lease }> {
    try {
      return { released: true, next: await queue.release(job, token, next) };
    } catch (error) {
      if (!(error instanceof ConnectError && error.code === Code.FailedPrecondition)) {
        onError(error, job.id);
      }
      return { released: false };
    }
  }

  /**
   * The pending job a call with `token` is about, its lease checked (and moved on, as any call
   * from its worker shows it alive). An ended job is FAILED_PRECONDITION, and its lease let go.
   */
  async function heldJob(jobId: string, token: string, fresh: boolean): Promise<StoredJob> {
    // Unless `fresh`, this instance's last sight of the job will do (it made or started the job,
    // mostly): the lease is checked below, and the record's compare-and-set checks the rest.
    const stored = await (fresh ? store.get(jobId) : store.lastSeen(jobId));
    if (stored === undefined) {
      throw new ConnectError(`job ${jobId} not found`, Code.NotFound);
    }
    const job = stored.job;
    if (job.state !== JobState.PENDING) {
      await letGo(job, token);
      throw new ConnectError(`job ${jobId} has ended (${JobState[job.state]}): its lease is over`, Code.FailedPrecondition);
    }
    if (job.kind === "") {
      throw staleLease(jobId);
    }
    await queue.extend(job, token, leaseMsOf(token) ?? defaultLeaseMs);
    return stored;
  }

  /**
   * Says in the record that no worker holds the job any more (its attempt failed and it waits
   * for the next, or its lease ran out): waiters see it, and its progress goes with the attempt.
   */
  async function letGoOfAttempt(stored: StoredJob): Promise<Job | undefined> {
    const at = clock.now();
    const result = await store.update(
      stored.job.id,
      (job) => (job.held ? changedJob(job, { held: false, progress: undefined }, at) : undefined),
      stored,
    );
    return result?.job;
  }

  /** Ends a job whose attempts have run out, and takes it out of the queue. */
  async function endOutOfAttempts(job: Job, why: string): Promise<void> {
    const ended = await store.finish(job.id, {
      state: JobState.ERROR,
      errorMessage: `${why} on attempt ${job.attempt} of ${job.maxAttempts}: no attempts left`,
      at: clock.now(),
    });
    if (ended?.changed === true) {
      progress.forget(job.id);
    }
  }

  /**
   * Starts the next attempt of a leased job: its attempt and start_time set in the record. A job
   * that ended meanwhile (a cancel), or whose attempts are used up, is let go: undefined.
   */
  async function startAttempt(lease: Lease): Promise<Job | undefined> {
    const now = clock.now();
    // No read first: the store tries its last sight of the job, and reads only if that is stale.
    const started = await store.update(lease.jobId, (job) =>
      job.attempt >= job.maxAttempts
        ? undefined
        : changedJob(
            job,
            { attempt: job.attempt + 1, startTime: job.startTime ?? timestampFromMs(now), progress: undefined, held: true },
            now,
          ),
    );
    if (started?.changed !== true) {
      if (started !== undefined && started.job.state === JobState.PENDING) {
        // Its last lease ran out before anyone ended it.
        await endOutOfAttempts(started.job, "the lease ran out");
      }
      await letGo(started?.job ?? { id: lease.jobId, kind: lease.kind }, lease.token);
      return undefined;
    }
    const job = started.job;
    const sinceCreateMs = job.attempt === 1 && job.createTime !== undefined ? now - timestampMs(job.createTime) : undefined;
    options.onClaimed?.(job, sinceCreateMs);
    return job;
  }

  /** Claims until a job is started or the claim ends: held while the wait, the caller and the server last. */
  async function claim(kinds: readonly string[], leaseMs: number, holdMs: number, call: RpcCall): Promise<ClaimJobResponse> {
    const caller = call.caller;
    const hold = holdMs > 0 && !heldWaits.isClosed;
    if (hold) {
      refuseIfFull(heldWaits, caller);
    }
    const ended = new AbortController();
    const end = (): void => ended.abort();
    const timer = hold ? setTimeout(end, holdMs) : undefined;
    const unhold = hold ? heldWaits.hold(caller, end) : undefined;
    const stopWatching = call.presence.onLeave(end);
    if (call.presence.left) {
      end();
    }
    heldClaims++;
    try {
      while (!ended.signal.aborted) {
        const lease = await queue.claim({ kinds, leaseMs, hold, signal: ended.signal });
        if (lease === undefined) {
          break;
        }
        const job = await startAttempt(lease);
        if (job !== undefined) {
          return create(ClaimJobResponseSchema, {
            job,
            leaseToken: lease.token,
            leaseExpireTime: timestampFromMs(lease.expiresAt),
          });
        }
        if (!hold) {
          break;
        }
      }
      return create(ClaimJobResponseSchema, {});
    } finally {
      heldClaims--;
      clearTimeout(timer);
      unhold?.();
      stopWatching();
    }
  }

  /** What a claim asks, checked: INVALID_ARGUMENT naming the field (under `prefix`) that is wrong. */
  function readClaim(req: ClaimJobRequest, prefix = "") {
    const kinds = readKinds(req.kinds, `${prefix}kinds`);
    const waitMs = readDuration(req.wait, `${prefix}wait`) ?? 0;
    const leaseMs = readLeaseMs(req.leaseDuration, `${prefix}lease_duration`, defaultLeaseMs, maxLeaseMs);
    readWorkerId(req.workerId, `${prefix}worker_id`);
    return { kinds, waitMs, leaseMs };
  }

  /**
   * CompleteJob's claim_next: the job the release leased (none waited when it is undefined: the
   * release asked every kind), started as a claim starts it, or none (also while the server
   * closes or the queue is away: the completion has been made, and stands).
   */
  async function claimNext(next: NextClaim, leased: Lease | undefined, call: RpcCall): Promise<ClaimJobResponse | undefined> {
    if (leased === undefined) {
      return undefined;
    }
    try {
      const started = await startAttempt(leased);
      if (started !== undefined) {
        return create(ClaimJobResponseSchema, {
          job: started,
          leaseToken: leased.token,
          leaseExpireTime: timestampFromMs(leased.expiresAt),
        });
      }
      // It ended meanwhile, or had no attempts left (startAttempt let it go): one claim more.
      const claimed = await claim(next.kinds, next.leaseMs, 0, call);
      return claimed.job === undefined ? undefined : claimed;
    } catch (error) {
      onError(error);
      return undefined;
    }
  }

  async function claimJob(req: ClaimJobRequest, call: RpcCall): Promise<ClaimJobResponse> {
    const { kinds, waitMs, leaseMs } = readClaim(req);
    if (options.available?.() === false) {
      throw new ConnectError("the work queue is unavailable", Code.Unavailable);
    }
    if (heldWaits.isClosed) {
      // Closing: the jobs in hand may still be reported (heartbeats, completions), not new ones taken.
      throw new ConnectError("the server is shutting down; claim elsewhere", Code.Unavailable);
    }
    const holdMs = waitMs > 0 ? holdTimeMs(waitMs, maxWaitMs, call.timeoutMs) : 0;
    return claim(kinds, leaseMs, holdMs, call);
  }

  async function completeJob(req: CompleteJobRequest, call: RpcCall): Promise<CompleteJobResponse> {
    const jobId = readJobId(req.jobId);
    const token = readLeaseToken(req.leaseToken);
    const result = readPayload(req.result, "result", maxPayloadBytes);
    const next = req.claimNext === undefined ? undefined : readClaim(req.claimNext, "claim_next.");
    const held = await heldJob(jobId, token, false);
    progress.forget(jobId);
    // None while the server closes or the queue is away: the completion is made, and stands.
    const wantsNext = next !== undefined && options.available?.() !== false && !heldWaits.isClosed ? next : undefined;
    const ended = await endHeld(held, token, { state: JobState.COMPLETED, result, at: clock.now() }, wantsNext);
    return create(CompleteJobResponseSchema, {
      job: ended.job,
      next: wantsNext === undefined ? undefined : await claimNext(wantsNext, ended.next, call),
    });
  }

  /**
   * Ends a held job's record with `outcome`, then lets its lease go (either way): the record
   * first, so a lease lost between the check and here leaves a job that whoever claims it next
   * finds ended, and lets go. FAILED_PRECONDITION when the job had ended already.
   */
  async function endHeld(
    held: StoredJob,
    token: string,
    outcome: Outcome,
    next?: NextClaim,
  ): Promise<{ job: Job; next?: Lease }> {
    const job = held.job;
    const ended = await store.finish(job.id, outcome, held);
    // The next job is leased only for a completion that stands, so none is left held for nothing.
    const released = await letGo(job, token, ended?.changed === true ? next : undefined);
    if (ended?.changed !== true) {
      throw new ConnectError(`job ${job.id} has ended already`, Code.FailedPrecondition);
    }
    return { job: ended.job, next: released.next };
  }

  const impl: ServiceImpl<typeof WorkerService> = {
    claimJob: (req, ctx) => claimJob(req, callOfContext(ctx)),

    async heartbeat(req) {
      const jobId = readJobId(req.jobId);
      const token = readLeaseToken(req.leaseToken);
      const report = req.progress === undefined ? undefined : readProgress(req.progress);
      const job = await readJob(jobId);
      if (job.state === JobState.CANCELLED && (await letGo(job, token)).released) {
        // Told once, to the worker that held it; later calls with the token find no lease.
        progress.forget(jobId);
        return create(HeartbeatResponseSchema, { cancelRequested: true });
      }
      if (job.state !== JobState.PENDING || job.kind === "") {
        throw staleLease(jobId);
      }
      // No lease_duration (or 0) renews the claim's own, which its token carries.
      const leaseMs = readLeaseMs(req.leaseDuration, "lease_duration", leaseMsOf(token) ?? defaultLeaseMs, maxLeaseMs);
      const expiresAt = await queue.extend(job, token, leaseMs);
      if (report !== undefined) {
        progress.report(jobId, report);
      }
      return create(HeartbeatResponseSchema, { leaseExpireTime: timestampFromMs(expiresAt) });
    },

    completeJob: (req, ctx) => completeJob(req, callOfContext(ctx)),

    async failJob(req) {
      const jobId = readJobId(req.jobId);
      const token = readLeaseToken(req.leaseToken);
      const message = readErrorMessage(req.errorMessage);
      // Read afresh: its attempt decides whether the job is tried again.
      const held = await heldJob(jobId, token, true);
      const job = held.job;
      progress.forget(jobId);
      if (req.retryable && job.attempt < job.maxAttempts) {
        if (await queue.retry(job, token, message)) {
          options.onRetried?.(job);
          const waiting = await letGoOfAttempt(held);
          return create(FailJobResponseSchema, { job: waiting ?? (await readJob(jobId)) });
        }
      }
      const errorMessage = req.retryable
        ? `${message} (attempt ${job.attempt} of ${job.maxAttempts}: no attempts left)`
        : message;
      const ended = await endHeld(held, token, { state: JobState.ERROR, errorMessage, at: clock.now() });
      return create(FailJobResponseSchema, { job: ended.job });
    },
  };

  return {
    impl,
    claimJob,
    completeJob,
    heldClaims: () => heldClaims,
    async leaseExpired(jobId) {
      const stored = await store.get(jobId);
      if (stored === undefined) {
        return;
      }
      const job = stored.job;
      progress.forget(jobId);
      if (job.state !== JobState.PENDING) {
        await queue.remove(job);
      } else if (job.attempt >= job.maxAttempts) {
        await endOutOfAttempts(job, "the lease ran out (the worker stopped sending heartbeats)");
        await queue.remove(job);
      } else {
        await letGoOfAttempt(stored);
      }
    },
  };
}
