import { create, equals } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import {
  CancelJobResponseSchema,
  type CreateJobRequest,
  type CreateJobResponse,
  CreateJobResponseSchema,
  type GetStatusRequest,
  type GetStatusResponse,
  GetStatusResponseSchema,
  type JobService,
  ListJobsResponseSchema,
  WatchJobResponseSchema,
} from "../../gen/jobs/v1/job_service_pb.js";
import type { Clock } from "../clock.js";
import type { RateLimits } from "../policy/rate-limits.js";
import { retryLaterError } from "../policy/retry-later-error.js";
import type { WorkQueue } from "../queues/work-queue.js";
import type { JobRunner } from "../stores/job-runner.js";
import type { JobStore } from "../stores/job-store.js";
import { EVICTED_POLL_HINT_MS } from "../waits/eviction-backoff.js";
import { type HeardChanges, hearChanges } from "../waits/hear-changes.js";
import type { HeldWaits } from "../waits/held-waits.js";
import { holdTimeMs } from "../waits/hold-time.js";
import { deadlineMarginMs, shortPollHintMs } from "../waits/poll-hint.js";
import { presenceOfSignal } from "../waits/presence.js";
import { isNews, type WaitEnd, type WaitResult, waitForChange } from "../waits/wait-for-change.js";
import { WatchedJobs } from "../waits/watched-jobs.js";
import { callerOf, connectionOf, ownerOf } from "./caller.js";
import { newJobId } from "./job-id.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { FULL_RETRY_DELAY_MS, refuseIfFull } from "./refuse-if-full.js";
import {
  readDuration,
  readJobId,
  readPageSize,
  readProcessingDuration,
  readRequestId,
  readStateFilter,
} from "./request-fields.js";
import { callOfContext, type RpcCall, type RpcHandler } from "./rpc-call.js";
import { createWatchJobs } from "./watch-jobs.js";
import { readKind, readMaxAttempts, readPayload } from "./work-fields.js";

/** ListJobs page size when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest ListJobs page; larger requests are clamped. */
export const MAX_PAGE_SIZE = 500;
/** Poll hints are whole ms and few: one shared, frozen Duration each, so encodings can be cached by it. */
const hintDurations = new Map<number, Duration>();

function hintDuration(ms: number): Duration {
  let duration = hintDurations.get(ms);
  if (duration === undefined) {
    duration = Object.freeze(durationFromMs(ms));
    if (hintDurations.size >= 4_096) {
      hintDurations.clear();
    }
    hintDurations.set(ms, duration);
  }
  return duration;
}

/** next_poll_after of waits answered because the server is closing: give it time to go. */
const CLOSING_POLL_HINT_MS = 1_000;

export interface JobServiceOptions {
  store: JobStore;
  runner: JobRunner;
  limits: RateLimits;
  clock: Clock;
  /** The longest a long wait is held, in ms. */
  maxWaitMs: number;
  /** The longest processing_duration accepted, in ms. */
  maxJobDurationMs: number;
  /** The held long waits and watches; released all at once when the server closes. */
  heldWaits: HeldWaits;
  /**
   * next_poll_after of a wait answered early to make room under MAX_HELD_WAITS, and the retry
   * delay of a watch ended for it, in ms: the server holds all the waits it can, so not at once.
   * @default EVICTED_POLL_HINT_MS
   */
  evictedHintMs?: () => number;
  /**
   * Told of each held wait or watch answered because its job changed, with the job (once per
   * WatchJobs message, with its first job: see WatchJobsOptions.onWake).
   */
  onWake?: (job: Job) => void;
  /** Where jobs of a kind wait for their workers. */
  queue: WorkQueue;
  /** The largest input of a job of a kind, as JSON, in bytes. */
  maxPayloadBytes: number;
  /** The most jobs one caller may watch at once on WatchJobs streams. */
  maxWatchedJobsPerCaller: number;
}

export type GetStatus = RpcHandler<GetStatusRequest, GetStatusResponse>;
export type CreateJob = RpcHandler<CreateJobRequest, CreateJobResponse>;

export interface JobServiceParts {
  /** The JobService handlers, for a Connect router. */
  impl: ServiceImpl<typeof JobService>;
  getStatus: GetStatus;
  createJob: CreateJob;
}

/** The JobService handlers over a store, a runner and rate limits. */
export function createJobService(options: JobServiceOptions): JobServiceParts {
  const { store, runner, queue, limits, clock, maxWaitMs, maxJobDurationMs, heldWaits, onWake } = options;
  const evictedHintMs = options.evictedHintMs ?? (() => EVICTED_POLL_HINT_MS);

  /** The job, if it exists and belongs to `owner`; else NOT_FOUND (other owners' jobs are not there). */
  async function readJob(jobId: string, owner: string): Promise<Job> {
    const stored = await store.get(jobId);
    if (stored === undefined || stored.owner !== owner) {
      throw new ConnectError(`job ${jobId} not found`, Code.NotFound);
    }
    return stored.job;
  }

  /** The answer to GetStatus; `end` says how its held wait ended, undefined when none was held. */
  function statusAnswer(job: Job, end?: WaitEnd): GetStatusResponse {
    // Plain message literals: this is the hottest answer of the service.
    if (job.state !== JobState.PENDING) {
      return { $typeName: GetStatusResponseSchema.typeName, job, nextPollAfter: undefined };
    }
    return { $typeName: GetStatusResponseSchema.typeName, job, nextPollAfter: hintDuration(pollHintMs(job, end)) };
  }

  /** When a caller with a pending job should ask again. */
  function pollHintMs(job: Job, end: WaitEnd | undefined): number {
    return end === undefined ? shortPollHintMs(job, clock.now(), limits.shortPollIntervalMs) : afterHoldHintMs(end);
  }

  /** When a caller may wait again for a job still pending after a held wait that ended so. */
  function afterHoldHintMs(end: WaitEnd): number {
    switch (end) {
      case "closing":
        return CLOSING_POLL_HINT_MS;
      case "evicted":
        return evictedHintMs();
      default:
        // After a held wait that changed or ran its time, the caller may wait again at once.
        return 0;
    }
  }

  async function getStatus(req: GetStatusRequest, call: RpcCall): Promise<GetStatusResponse> {
    const jobId = readJobId(req.jobId);
    const waitMs = readDuration(req.wait, "wait") ?? 0;
    const hold = waitMs > 0 ? holdTimeMs(waitMs, maxWaitMs, call.timeoutMs) : 0;
    if (hold <= 0) {
      await limits.shortPoll(call.caller, call.connection);
      return statusAnswer(await readJob(jobId, call.owner));
    }
    // Heard from before the read, so the wait below needs no read of its own.
    const hearing = hearChanges(store, jobId);
    let waited: WaitResult;
    try {
      const job = hearing.newest(await readJob(jobId, call.owner));
      const answerNow = req.untilTerminal ? job.state !== JobState.PENDING : isNews(job, req.knownVersion);
      if (answerNow || heldWaits.isClosed) {
        // Answered without waiting, so it costs what a short poll costs.
        await limits.shortPoll(call.caller, call.connection);
        return statusAnswer(job);
      }
      refuseIfFull(heldWaits, call.caller);
      const waiting = waitForChange(store, job, req.knownVersion, {
        holdMs: hold,
        presence: call.presence,
        heldWaits,
        caller: call.caller,
        seenSubscribed: true,
        untilTerminal: req.untilTerminal,
      });
      // The wait has subscribed (at once, as it was made): one listener per held wait, not two.
      hearing.stop();
      waited = await waiting;
    } finally {
      hearing.stop();
    }
    if (waited.end === "changed") {
      onWake?.(waited.job);
    }
    return statusAnswer(waited.job, waited.end);
  }

  async function createJob(req: CreateJobRequest, call: RpcCall): Promise<CreateJobResponse> {
    const draft = req.kind === "" ? simulatedDraft(req) : workDraft(req);
    const requestId = readRequestId(req.requestId);
    const waitMs = readDuration(req.wait, "wait") ?? 0;
    // Reckoned now, from the deadline the call came with: the create's own round trips count.
    const holdEnd = waitMs > 0 ? clock.now() + holdTimeMs(waitMs, maxWaitMs, call.timeoutMs) : 0;
    await limits.create(call.caller, call.connection);
    const now = clock.now();
    const job = create(JobSchema, {
      ...draft.fields,
      id: newJobId(),
      state: JobState.PENDING,
      createTime: timestampFromMs(now),
      updateTime: timestampFromMs(now),
      estimatedCompletionTime: draft.durationMs === undefined ? undefined : timestampFromMs(now + draft.durationMs),
      version: 1n,
      requestId,
    });
    // A wait for the end hears the new job from before it is stored, so it needs no read.
    const hearing = waitMs > 0 ? hearChanges(store, job.id) : undefined;
    try {
      const stored = await storeAndSchedule(job, call.owner);
      if (hearing === undefined) {
        return create(CreateJobResponseSchema, { job: stored.job });
      }
      // A repeated request_id's job was not heard (another id): the wait reads it once more.
      const ended = await waitForEnd(stored.job, stored.created ? hearing : undefined, holdEnd, call);
      return create(CreateJobResponseSchema, {
        job: ended.job,
        nextPollAfter: ended.hintMs > 0 ? hintDuration(ended.hintMs) : undefined,
      });
    } finally {
      hearing?.stop();
    }
  }

  /** Stores a new job (or finds the one its request_id made before) and schedules it if pending. */
  async function storeAndSchedule(job: Job, owner: string): Promise<{ job: Job; created: boolean }> {
    const result = await store.create(job, owner);
    const stored = result.job;
    if (!result.created && !sameRequest(stored, job)) {
      throw new ConnectError(
        `request_id ${job.requestId} was used for a different request (job ${stored.id})`,
        Code.AlreadyExists,
      );
    }
    // Stored first, then scheduled (or queued for its workers), so nothing is ever scheduled
    // for a job never stored. A repeat whose job is still pending schedules it again
    // (idempotent: a no-op when it is scheduled), so a create whose scheduling failed is
    // mended by the client's retry with the same request_id. What remains is a job stored, not
    // scheduled, and never retried: the instance that stored a simulated job still finishes it
    // with its local timer, unless it stops before the job is due (the job then stays PENDING).
    if (stored.state === JobState.PENDING) {
      try {
        await (stored.kind === "" ? runner.start(stored) : queue.enqueue(stored));
      } catch (error) {
        throw new ConnectError(
          `job ${stored.id} was stored but could not be scheduled; retry with the same request_id`,
          Code.Unavailable,
          undefined,
          undefined,
          error,
        );
      }
    }
    return { job: stored, created: result.created };
  }

  /**
   * CreateJob's wait, held until `holdEnd` (ms since the epoch): the job once it has ended, or as
   * it is when the hold runs out. Never an error, since the job exists by now: a wait that cannot
   * be held (MAX_WAITS_PER_CALLER reached, the server closing) or is let go early answers with a
   * hint of when to follow the job with GetStatus.
   */
  async function waitForEnd(
    job: Job,
    hearing: HeardChanges | undefined,
    holdEnd: number,
    call: RpcCall,
  ): Promise<{ job: Job; hintMs: number }> {
    const seen = hearing?.newest(job) ?? job;
    const holdMs = holdEnd - clock.now();
    if (holdMs <= 0 || seen.state !== JobState.PENDING) {
      return { job: seen, hintMs: 0 };
    }
    if (heldWaits.isClosed) {
      return { job: seen, hintMs: CLOSING_POLL_HINT_MS };
    }
    if (heldWaits.isFull(call.caller)) {
      return { job: seen, hintMs: FULL_RETRY_DELAY_MS };
    }
    const waiting = waitForChange(store, seen, seen.version, {
      holdMs,
      presence: call.presence,
      heldWaits,
      caller: call.caller,
      seenSubscribed: hearing !== undefined,
      untilTerminal: true,
    });
    hearing?.stop();
    const waited = await waiting;
    if (waited.end === "changed") {
      onWake?.(waited.job);
    }
    const pending = waited.job.state === JobState.PENDING;
    return { job: waited.job, hintMs: pending ? afterHoldHintMs(waited.end) : 0 };
  }

  const impl: ServiceImpl<typeof JobService> = {
    createJob: (req, ctx) => createJob(req, callOfContext(ctx)),

    getStatus: (req, ctx) => getStatus(req, callOfContext(ctx)),

    async *watchJob(req, ctx) {
      const jobId = readJobId(req.jobId);
      const caller = callerOf(ctx);
      const presence = presenceOfSignal(ctx.signal);
      // Heard from before the first read until the first wait has subscribed, the first message's
      // send included: that wait needs no read of its own. The later ones read once subscribed.
      let hearing: HeardChanges | undefined = hearChanges(store, jobId);
      try {
        let job = await readJob(jobId, ownerOf(ctx));
        let known = req.knownVersion;
        // The stream ends cleanly just before the caller's deadline; the caller resumes from `known`.
        const timeoutMs = ctx.timeoutMs();
        const endAt = timeoutMs === undefined ? Infinity : clock.now() + timeoutMs - deadlineMarginMs(timeoutMs);
        for (;;) {
          job = hearing?.newest(job) ?? job;
          if (isNews(job, known)) {
            yield create(WatchJobResponseSchema, { job });
            known = job.version;
            if (job.state !== JobState.PENDING) {
              return;
            }
            // What was heard while the message went out is looked at before waiting.
            continue;
          }
          if (heldWaits.isClosed) {
            throw new ConnectError("the server is shutting down; resume the watch elsewhere", Code.Unavailable);
          }
          const hold = endAt - clock.now();
          if (ctx.signal.aborted || hold <= 0) {
            return;
          }
          refuseIfFull(heldWaits, caller);
          const waiting = waitForChange(store, job, known, {
            holdMs: hold,
            presence,
            heldWaits,
            caller,
            seenSubscribed: hearing !== undefined,
          });
          hearing?.stop();
          hearing = undefined;
          const waited = await waiting;
          if (waited.end === "evicted") {
            // Ended to make room for a newer wait: the client resumes from `known` after the hint.
            throw retryLaterError("this server holds as many waits as it can; resume the watch later", evictedHintMs());
          }
          job = waited.job;
          if (waited.end === "changed") {
            onWake?.(job);
          }
        }
      } finally {
        hearing?.stop();
      }
    },

    watchJobs: createWatchJobs({
      store,
      clock,
      heldWaits,
      watchedJobs: new WatchedJobs(options.maxWatchedJobsPerCaller),
      evictedHintMs,
      onWake,
    }),

    async cancelJob(req, ctx) {
      const jobId = readJobId(req.jobId);
      await readJob(jobId, ownerOf(ctx));
      const result = await store.finish(jobId, { state: JobState.CANCELLED, at: clock.now() });
      if (result === undefined) {
        throw new ConnectError(`job ${jobId} not found`, Code.NotFound);
      }
      if (result.changed && result.job.kind !== "") {
        // Out of its queue if it waits there; a worker that holds it learns from its heartbeat.
        await queue.remove(result.job).catch(() => undefined);
      }
      if (!result.changed) {
        const state = JobState[result.job.state];
        throw new ConnectError(
          `job ${jobId} has ended already (${state}); only pending jobs can be cancelled`,
          Code.FailedPrecondition,
        );
      }
      return create(CancelJobResponseSchema, { job: result.job });
    },

    async listJobs(req, ctx) {
      const state = readStateFilter(req.state);
      const limit = readPageSize(req.pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const after = decodePageToken(req.pageToken, state);
      await limits.list(callerOf(ctx), connectionOf(ctx));
      const page = await store.list({ owner: ownerOf(ctx), state, limit, after });
      return create(ListJobsResponseSchema, {
        jobs: page.jobs,
        nextPageToken: page.next === undefined ? "" : encodePageToken(page.next, state),
      });
    },
  };
  /** The fields of a simulated job, from a CreateJob without a kind. */
  function simulatedDraft(req: CreateJobRequest): Draft {
    const durationMs = readProcessingDuration(req.processingDuration, maxJobDurationMs);
    if (req.input !== undefined || req.maxAttempts !== 0) {
      throw new ConnectError("input and max_attempts are for jobs of a kind: set kind too", Code.InvalidArgument);
    }
    return { fields: { processingDuration: req.processingDuration, shouldError: req.shouldError }, durationMs };
  }

  /** The fields of a job of a kind, for its workers. */
  function workDraft(req: CreateJobRequest): Draft {
    const kind = readKind(req.kind);
    if (req.processingDuration !== undefined || req.shouldError) {
      throw new ConnectError(
        "processing_duration and should_error are for simulated jobs: a job of a kind takes as long as its worker",
        Code.InvalidArgument,
      );
    }
    const input = readPayload(req.input, "input", options.maxPayloadBytes);
    return { fields: { kind, input, maxAttempts: readMaxAttempts(req.maxAttempts) }, durationMs: undefined };
  }

  return { impl, getStatus, createJob };
}

/** A new job's own fields, from its request, and a simulated job's duration. */
interface Draft {
  fields: Pick<Partial<Job>, "processingDuration" | "shouldError" | "kind" | "input" | "maxAttempts">;
  durationMs: number | undefined;
}

/** Whether a job stored earlier under a request id was made by the same request as `job`. */
function sameRequest(earlier: Job, job: Job): boolean {
  return (
    earlier.kind === job.kind &&
    earlier.shouldError === job.shouldError &&
    durationKey(earlier) === durationKey(job) &&
    earlier.maxAttempts === job.maxAttempts &&
    (earlier.input === undefined) === (job.input === undefined) &&
    (earlier.input === undefined || job.input === undefined || equals(ValueSchema, earlier.input, job.input))
  );
}

function durationKey(job: Job): string {
  const d = job.processingDuration;
  return d === undefined ? "" : `${d.seconds}.${d.nanos}`;
}
