import { clone, create, fromJson, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type HandlerContext, type Transport } from "@connectrpc/connect";
import { vi } from "vitest";
import { type Job, JobSchema, JobState, type Progress } from "../../gen/jobs/v1/job_pb.js";
import { type CreateJobRequest, JobService } from "../../gen/jobs/v1/job_service_pb.js";
import {
  type ClaimJobRequest,
  type CompleteJobRequest,
  type FailJobRequest,
  type HeartbeatRequest,
  WorkerService,
} from "../../gen/jobs/v1/worker_service_pb.js";

// An in-process job service for the client's tests: JobService (create, read, long waits,
// WatchJob, cancel) and WorkerService (claims held until a job comes, leases, heartbeats,
// complete and fail) with the semantics proto/jobs/v1 describes, minus what only a real server
// does (coalescing, payload limits, backoff between attempts). Its clock is Date.now() and its
// waits are setTimeout, so fake timers drive it as they drive the client. Every wait it holds
// is released when its call ends.

/** The lease of a claimed job. */
interface Lease {
  token: string;
  leaseMs: number;
  expiresAt: number;
  /** Set by CancelJob: the next Heartbeat answers cancel_requested. */
  cancelRequested: boolean;
}

/** A WorkerService method whose calls can be made to fail. */
type WorkerMethod = "claimJob" | "heartbeat" | "completeJob" | "failJob";

export interface FakeJobsServer {
  /** Serves both services in-process. */
  transport: Transport;
  /** The job as it is now. */
  job(jobId: string): Job;
  /** Every request received, by method, in order. */
  requests: {
    createJob: CreateJobRequest[];
    claimJob: ClaimJobRequest[];
    heartbeat: HeartbeatRequest[];
    completeJob: CompleteJobRequest[];
    failJob: FailJobRequest[];
  };
  /** The authorization header of every WorkerService call. */
  authorizations: Array<string | null>;
  /** Claims held now, waiting for a job. */
  heldClaims(): number;
  /** Jobs claimed and not yet ended or given back. */
  leasedJobs(): string[];
  /** Jobs waiting in the queue. */
  queuedJobs(): string[];
  /** Puts a job of `kind` in the queue, as CreateJob does; returns its id. */
  enqueue(kind: string, options?: { input?: JsonValue; maxAttempts?: number }): string;
  /** Changes a job as a worker's progress would. */
  setProgress(jobId: string, progress: Pick<Progress, "fraction" | "message">): void;
  /** Ends a pending job in COMPLETED, as a worker's CompleteJob would. */
  finish(jobId: string, result?: JsonValue): void;
  /** Ends a job's lease as if it had run out: the job is queued again, and its token is stale. */
  loseLease(jobId: string): void;
  /** Called at the start of each call of `method` (before anything changes): throw to fail it. */
  faults: Partial<Record<WorkerMethod, () => void>>;
}

/** Starts an empty fake. */
export function fakeJobsServer(): FakeJobsServer {
  const jobs = new Map<string, Job>();
  const leases = new Map<string, Lease>();
  const queue: string[] = [];
  const listeners = new Set<() => void>();
  let ids = 0;
  let tokens = 0;
  let held = 0;
  const requests: FakeJobsServer["requests"] = { createJob: [], claimJob: [], heartbeat: [], completeJob: [], failJob: [] };
  const authorizations: Array<string | null> = [];
  const faults: FakeJobsServer["faults"] = {};

  const get = (jobId: string): Job => {
    const job = jobs.get(jobId);
    if (job === undefined) {
      throw new ConnectError(`no job ${jobId}`, Code.NotFound);
    }
    return job;
  };
  /** Replaces the job with a copy carrying `changes` and the next version, and wakes the waits. */
  const change = (jobId: string, changes: Partial<Job>): Job => {
    const next = clone(JobSchema, get(jobId));
    Object.assign(next, changes);
    next.version++;
    next.updateTime = timestampFromMs(Date.now());
    jobs.set(jobId, next);
    for (const listener of [...listeners]) {
      listener();
    }
    return next;
  };
  const add = (init: MessageInitShape<typeof JobSchema>): string => {
    const id = `job-${++ids}`;
    const now = timestampFromMs(Date.now());
    jobs.set(id, create(JobSchema, { ...init, id, state: JobState.PENDING, version: 1n, createTime: now, updateTime: now }));
    if (init.kind !== undefined && init.kind !== "") {
      queue.push(id);
    }
    for (const listener of [...listeners]) {
      listener();
    }
    return id;
  };
  /** Resolves once `ready()` holds after a change, `waitMs` has passed, or `signal` aborted. */
  const waitUntil = (ready: () => boolean, waitMs: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (ready() || waitMs <= 0 || signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const check = (): void => {
        if (ready()) {
          done();
        }
      };
      const timer = setTimeout(done, waitMs);
      listeners.add(check);
      signal.addEventListener("abort", done, { once: true });
    });
  /** The lease `token` names, or FAILED_PRECONDITION when it is not the job's current one. */
  const leaseOf = (jobId: string, token: string): Lease => {
    get(jobId);
    const lease = leases.get(jobId);
    if (lease === undefined || lease.token !== token) {
      throw new ConnectError("the lease token is not the job's current lease", Code.FailedPrecondition);
    }
    if (Date.now() > lease.expiresAt) {
      loseLease(jobId);
      throw new ConnectError("the lease ran out", Code.FailedPrecondition);
    }
    return lease;
  };
  const loseLease = (jobId: string): void => {
    leases.delete(jobId);
    const job = get(jobId);
    if (job.state !== JobState.PENDING) {
      return;
    }
    if (job.attempt >= job.maxAttempts) {
      change(jobId, { state: JobState.ERROR, errorMessage: "the lease ran out on the last attempt" });
      return;
    }
    queue.push(jobId);
    change(jobId, { progress: undefined });
  };
  const terminal = (jobId: string): boolean => get(jobId).state !== JobState.PENDING;

  const transport = createRouterTransport(({ service }) => {
    service(JobService, {
      createJob(req) {
        requests.createJob.push(req);
        if (req.kind === "") {
          return {
            job: get(add({ processingDuration: req.processingDuration, shouldError: req.shouldError, requestId: req.requestId })),
          };
        }
        const maxAttempts = req.maxAttempts === 0 ? 3 : req.maxAttempts;
        return { job: get(add({ kind: req.kind, input: req.input, maxAttempts, requestId: req.requestId })) };
      },
      async getStatus(req, ctx) {
        const waitMs = req.wait === undefined ? 0 : durationMs(req.wait);
        get(req.jobId);
        await waitUntil(() => get(req.jobId).version !== req.knownVersion || terminal(req.jobId), waitMs, ctx.signal);
        return { job: get(req.jobId) };
      },
      async *watchJob(req, ctx) {
        let known = req.knownVersion;
        for (;;) {
          const job = get(req.jobId);
          if (job.version !== known) {
            known = job.version;
            yield { job };
          }
          if (terminal(req.jobId) || ctx.signal.aborted) {
            return;
          }
          await waitUntil(() => get(req.jobId).version !== known, 3_600_000, ctx.signal);
        }
      },
      cancelJob(req) {
        if (terminal(req.jobId)) {
          throw new ConnectError("the job has ended", Code.FailedPrecondition);
        }
        const lease = leases.get(req.jobId);
        if (lease !== undefined) {
          lease.cancelRequested = true;
        }
        const queued = queue.indexOf(req.jobId);
        if (queued >= 0) {
          queue.splice(queued, 1);
        }
        return { job: change(req.jobId, { state: JobState.CANCELLED }) };
      },
    });
    /** Notes a worker call (its request and authorization) and runs the test's fault for it, if any. */
    const received = <M extends WorkerMethod>(method: M, req: FakeJobsServer["requests"][M][number], ctx: HandlerContext) => {
      (requests[method] as Array<typeof req>).push(req);
      authorizations.push(ctx.requestHeader.get("authorization"));
      faults[method]?.();
    };
    /** The oldest waiting job of one of `kinds`. */
    const waitingOf = (kinds: readonly string[]): string | undefined => queue.find((id) => kinds.includes(get(id).kind));
    /** Leases a waiting job to a claim: its attempt started, as the server does. */
    const take = (jobId: string, req: ClaimJobRequest) => {
      queue.splice(queue.indexOf(jobId), 1);
      const asked = req.leaseDuration === undefined ? 0 : durationMs(req.leaseDuration);
      const leaseMs = asked === 0 ? 30_000 : asked;
      const lease = { token: `lease-${++tokens}`, leaseMs, expiresAt: Date.now() + leaseMs, cancelRequested: false };
      leases.set(jobId, lease);
      const before = get(jobId);
      const job = change(jobId, { attempt: before.attempt + 1, startTime: before.startTime ?? timestampFromMs(Date.now()) });
      return { job, leaseToken: lease.token, leaseExpireTime: timestampFromMs(lease.expiresAt) };
    };
    service(WorkerService, {
      async claimJob(req, ctx) {
        received("claimJob", req, ctx);
        const next = (): string | undefined => waitingOf(req.kinds);
        const until = Date.now() + (req.wait === undefined ? 0 : durationMs(req.wait));
        let jobId = next();
        held++;
        try {
          // Another claim woken by the same job may take it first: then wait on.
          while (jobId === undefined && Date.now() < until && !ctx.signal.aborted) {
            await waitUntil(() => next() !== undefined, until - Date.now(), ctx.signal);
            jobId = next();
          }
        } finally {
          held--;
        }
        if (jobId === undefined || ctx.signal.aborted) {
          return {};
        }
        return take(jobId, req);
      },
      heartbeat(req, ctx) {
        received("heartbeat", req, ctx);
        const lease = leaseOf(req.jobId, req.leaseToken);
        if (lease.cancelRequested) {
          leases.delete(req.jobId);
          return { cancelRequested: true };
        }
        lease.expiresAt = Date.now() + lease.leaseMs;
        if (req.progress !== undefined) {
          change(req.jobId, { progress: req.progress });
        }
        return { leaseExpireTime: timestampFromMs(lease.expiresAt) };
      },
      completeJob(req, ctx) {
        received("completeJob", req, ctx);
        leaseOf(req.jobId, req.leaseToken);
        leases.delete(req.jobId);
        const job = change(req.jobId, { state: JobState.COMPLETED, result: req.result });
        // claim_next: a job waiting now, never waited for.
        const asked = req.claimNext;
        const nextId = asked === undefined ? undefined : waitingOf(asked.kinds);
        return { job, next: asked === undefined ? undefined : nextId === undefined ? {} : take(nextId, asked) };
      },
      failJob(req, ctx) {
        received("failJob", req, ctx);
        leaseOf(req.jobId, req.leaseToken);
        leases.delete(req.jobId);
        const job = get(req.jobId);
        if (req.retryable && job.attempt < job.maxAttempts) {
          queue.push(req.jobId);
          return { job: change(req.jobId, { progress: undefined }) };
        }
        return { job: change(req.jobId, { state: JobState.ERROR, errorMessage: req.errorMessage }) };
      },
    });
  });

  return {
    transport,
    job: get,
    requests,
    authorizations,
    heldClaims: () => held,
    leasedJobs: () => [...leases.keys()],
    queuedJobs: () => [...queue],
    enqueue: (kind, options = {}) =>
      add({
        kind,
        input: options.input === undefined ? undefined : fromJson(ValueSchema, options.input),
        maxAttempts: options.maxAttempts ?? 3,
      }),
    setProgress: (jobId, progress) => {
      change(jobId, { progress: { $typeName: "jobs.v1.Progress", ...progress } });
    },
    finish: (jobId, result) => {
      leases.delete(jobId);
      change(jobId, { state: JobState.COMPLETED, result: result === undefined ? undefined : fromJson(ValueSchema, result) });
    },
    loseLease,
    faults,
  };
}

/**
 * Lets everything already due run, on fake timers: the calls in flight over the router, and
 * the callbacks they schedule, without moving the clock.
 */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 30; turn++) {
    await vi.advanceTimersByTimeAsync(0);
  }
}
