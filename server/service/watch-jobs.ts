import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { type Job, JobState } from "../../gen/jobs/v1/job_pb.js";
import { type WatchJobsRequest, type WatchJobsResponse, WatchJobsResponseSchema } from "../../gen/jobs/v1/job_service_pb.js";
import type { Clock } from "../clock.js";
import { retryLaterError } from "../policy/retry-later-error.js";
import type { JobStore } from "../stores/job-store.js";
import type { HeldWaits, ReleaseReason } from "../waits/held-waits.js";
import { deadlineMarginMs } from "../waits/poll-hint.js";
import { isNews } from "../waits/wait-for-change.js";
import type { WatchedJobs } from "../waits/watched-jobs.js";
import { callerOf, ownerOf } from "./caller.js";
import { FULL_RETRY_DELAY_MS, refuseIfFull } from "./refuse-if-full.js";
import { readJobId } from "./request-fields.js";

/** The most jobs one WatchJobs call may name. */
export const MAX_JOBS_PER_WATCH = 1_000;

export interface WatchJobsOptions {
  store: JobStore;
  clock: Clock;
  /** A stream counts as one held wait, however many jobs it watches. */
  heldWaits: HeldWaits;
  /** Its jobs count here, against MAX_WATCHED_JOBS_PER_CALLER. */
  watchedJobs: WatchedJobs;
  /** The retry delay of a stream ended to make room under MAX_HELD_WAITS, in ms. */
  evictedHintMs: () => number;
  /**
   * Told once per message sent because jobs changed while watched, with the first of them (the
   * one that waited longest): a burst of 10k ends in 100 messages is 100 wakes, not 10k.
   */
  onWake?: (job: Job) => void;
}

/**
 * WatchJobs: many jobs on one stream. Subscribes to every job first and reads them second, so
 * no change between the two is missed; then sends, in one message, the jobs that changed since
 * the last (all that changed while the previous message was being sent, or within the same turn
 * of the event loop), until every job found is terminal, the caller leaves, its deadline comes
 * (less a margin: the stream ends cleanly and the caller resumes), or the server releases it.
 */
export function createWatchJobs(options: WatchJobsOptions) {
  const { store, clock, heldWaits, watchedJobs, evictedHintMs, onWake } = options;

  return async function* watchJobs(req: WatchJobsRequest, ctx: HandlerContext): AsyncGenerator<WatchJobsResponse> {
    const known = readRequest(req);
    const caller = callerOf(ctx);
    const owner = ownerOf(ctx);
    if (heldWaits.isClosed) {
      throw new ConnectError("the server is shutting down; watch elsewhere", Code.Unavailable);
    }
    refuseIfFull(heldWaits, caller);
    const giveBack = watchedJobs.take(caller, known.size);
    if (giveBack === undefined) {
      throw retryLaterError(
        `this caller watches ${watchedJobs.of(caller)} jobs already; ${known.size} more would pass MAX_WATCHED_JOBS_PER_CALLER`,
        FULL_RETRY_DELAY_MS,
      );
    }
    // The jobs not yet seen terminal, with the version last sent (or known) of each.
    const open = new Map<string, bigint>(known);
    // The latest change of each open job not yet sent.
    const changed = new Map<string, Job>();
    let wake: (() => void) | undefined;
    let released: ReleaseReason | undefined;
    const see = (job: Job): void => {
      const sent = open.get(job.id);
      if (sent !== undefined && job.version > (changed.get(job.id)?.version ?? sent)) {
        changed.set(job.id, job);
        wake?.();
      }
    };
    const unsubscribe = new Map<string, () => void>();
    const forget = (id: string): void => {
      open.delete(id);
      unsubscribe.get(id)?.();
      unsubscribe.delete(id);
    };
    const unhold = heldWaits.hold(caller, (reason) => {
      released = reason;
      wake?.();
    });
    const onAbort = (): void => wake?.();
    ctx.signal.addEventListener("abort", onAbort);
    try {
      for (const id of known.keys()) {
        unsubscribe.set(id, store.subscribe(id, see));
      }
      const notFound: string[] = [];
      const stored = await Promise.all([...known.keys()].map((id) => store.get(id)));
      [...known.keys()].forEach((id, i) => {
        const record = stored[i];
        if (record === undefined || record.owner !== owner) {
          notFound.push(id);
          forget(id);
        } else if (isNews(record.job, known.get(id) as bigint) && !((changed.get(id)?.version ?? 0n) > record.job.version)) {
          // Differs from what the caller knows (or is terminal, sent again so that the stream
          // can end), unless a newer change was heard meanwhile.
          changed.set(id, record.job);
        }
      });
      if (notFound.length > 0 || changed.size > 0) {
        yield message(notFound);
      }
      const timeoutMs = ctx.timeoutMs();
      const endAt = timeoutMs === undefined ? Infinity : clock.now() + timeoutMs - deadlineMarginMs(timeoutMs);
      for (;;) {
        if (open.size === 0 || ctx.signal.aborted) {
          return;
        }
        if (released === "closing") {
          throw new ConnectError("the server is shutting down; resume the watch elsewhere", Code.Unavailable);
        }
        if (released === "evicted") {
          throw retryLaterError("this server holds as many waits as it can; resume the watch later", evictedHintMs());
        }
        const holdMs = endAt - clock.now();
        if (holdMs <= 0) {
          return;
        }
        if (changed.size === 0) {
          await new Promise<void>((resolve) => {
            const timer = Number.isFinite(holdMs) ? setTimeout(resolve, holdMs) : undefined;
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            };
          });
          // Changes that land in the same turn (a batch of jobs ending together) go in one message.
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (changed.size > 0) {
          yield message([], true);
        }
      }
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      unhold();
      for (const stop of unsubscribe.values()) {
        stop();
      }
      giveBack();
    }

    /** The changed jobs as one message, forgetting those that are terminal now. */
    function message(notFoundJobIds: string[], woken = false): WatchJobsResponse {
      const jobs = [...changed.values()];
      changed.clear();
      for (const job of jobs) {
        if (job.state === JobState.PENDING) {
          open.set(job.id, job.version);
        } else {
          forget(job.id);
        }
      }
      // Changes are kept in the order they were heard: the first waited longest.
      if (woken && jobs[0] !== undefined) {
        onWake?.(jobs[0]);
      }
      return create(WatchJobsResponseSchema, { jobs, notFoundJobIds });
    }
  };
}

/** The ids asked for, each with its known version (0 for none); INVALID_ARGUMENT naming what is wrong. */
function readRequest(req: WatchJobsRequest): Map<string, bigint> {
  const { jobIds, knownVersions } = req;
  if (jobIds.length === 0) {
    throw new ConnectError("job_ids is required: name the jobs to watch", Code.InvalidArgument);
  }
  if (jobIds.length > MAX_JOBS_PER_WATCH) {
    throw new ConnectError(
      `job_ids names ${jobIds.length} jobs; one WatchJobs call watches at most ${MAX_JOBS_PER_WATCH}`,
      Code.InvalidArgument,
    );
  }
  if (knownVersions.length !== 0 && knownVersions.length !== jobIds.length) {
    throw new ConnectError(
      `known_versions has ${knownVersions.length} versions for ${jobIds.length} job_ids: give none, or one per id`,
      Code.InvalidArgument,
    );
  }
  const known = new Map<string, bigint>();
  jobIds.forEach((id, i) => {
    const version = knownVersions[i] ?? 0n;
    const jobId = readJobId(id, `job_ids[${i}]`);
    // A repeated id is watched once, from the newest version the caller gave for it.
    if (!known.has(jobId) || (known.get(jobId) as bigint) < version) {
      known.set(jobId, version);
    }
  });
  return known;
}
