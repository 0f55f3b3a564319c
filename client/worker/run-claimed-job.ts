import type { Value } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { ClaimJobResponse } from "../../gen/jobs/v1/worker_service_pb.js";
import type { JobClientError } from "../errors.js";
import { valueFromJson } from "../json/value-from-json.js";
import type { JobOutcome } from "./job-handler.js";
import type { JobLease } from "./job-lease.js";
import type { ResolvedWorkerOptions } from "./job-worker-options.js";
import { NonRetryableError } from "./worker-errors.js";
import type { WorkerRpc } from "./worker-rpc.js";

/** One claimed job and what running it needs. */
export interface ClaimedJobRun {
  job: Job;
  leaseToken: string;
  /** Its lease, not yet started. */
  lease: JobLease;
  rpc: WorkerRpc;
  settings: ResolvedWorkerOptions;
  /** Tells the worker's owner of a report that failed for good. */
  reportError: (error: JobClientError, job: Job) => void;
  /** Whether the worker wants its next job now, claimed with the completion (CompleteJob's claim_next). */
  wantsNext: () => boolean;
}

/** How the handler ended. */
type HandlerEnd = { ok: true; value: JobOutcome } | { ok: false; error: unknown };

/**
 * Runs the handler on a claimed job under its lease's heartbeats, then reports how it ended:
 * CompleteJob with the result, or FailJob with the error's message (retryable unless it is a
 * NonRetryableError). Nothing is reported when the lease was lost or the job cancelled meanwhile.
 * Resolves with the next job when the completion claimed one (see `wantsNext`). Never throws: a
 * report that fails for good goes to `reportError`.
 */
export async function runClaimedJob(run: ClaimedJobRun): Promise<ClaimJobResponse | undefined> {
  const { job, lease, settings } = run;
  const logger = settings.logger;
  logger.debug?.({ jobId: job.id, kind: job.kind, attempt: job.attempt }, "job claimed");
  lease.start();
  let end: HandlerEnd;
  try {
    const value = await settings.handler(job, { signal: lease.signal, progress: lease.progress, attempt: job.attempt });
    // A handler that returns nothing (void) returns undefined; null stays a JSON null.
    end = { ok: true, value: value as JobOutcome };
  } catch (error) {
    end = { ok: false, error };
  }
  await lease.end();
  if (lease.lost !== undefined) {
    logger.info?.({ jobId: job.id, why: lease.lost }, "job not reported: its lease is over");
    return;
  }
  if (!end.ok) {
    await report(run, "FailJob", () => fail(run, messageOf(end.error), !(end.error instanceof NonRetryableError)));
    return;
  }
  let result: Value | undefined;
  try {
    result = end.value === undefined ? undefined : valueFromJson(end.value, "the handler's result");
  } catch (error) {
    await report(run, "FailJob", () => fail(run, messageOf(error), false));
    return;
  }
  let next: ClaimJobResponse | undefined;
  await report(run, "CompleteJob", async () => {
    try {
      const answer = await run.rpc.complete(
        { jobId: job.id, leaseToken: run.leaseToken, result },
        { deadline: lease.expiresAt, claimNext: run.wantsNext() },
      );
      next = answer.next?.job === undefined ? undefined : answer.next;
    } catch (error) {
      // A result too big for the server: the job is left as it was, so end it rather than let
      // it wait for its lease to run out and be done again.
      if ((error as JobClientError).code === Code.InvalidArgument) {
        await fail(run, `CompleteJob refused the result: ${(error as JobClientError).message}`, false);
        return;
      }
      throw error;
    }
  });
  return next;
}

function fail(run: ClaimedJobRun, errorMessage: string, retryable: boolean): Promise<unknown> {
  const { job, leaseToken, lease } = run;
  return run.rpc.fail({ jobId: job.id, leaseToken, errorMessage, retryable }, { deadline: lease.expiresAt });
}

/** Sends a report; FAILED_PRECONDITION or NOT_FOUND mean the job ended or moved on meanwhile (a cancel). */
async function report(run: ClaimedJobRun, method: string, send: () => Promise<unknown>): Promise<void> {
  const { job, settings } = run;
  try {
    await send();
    settings.logger.debug?.({ jobId: job.id, method }, "job reported");
  } catch (caught) {
    const error = caught as JobClientError;
    if (error.code === Code.FailedPrecondition || error.code === Code.NotFound) {
      settings.logger.info?.({ jobId: job.id, method, error: error.message }, "job not reported: its lease is over");
      return;
    }
    run.reportError(error, job);
  }
}

/** The message FailJob carries for what a handler threw. */
function messageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message === "" ? error.name : error.message;
  }
  return String(error);
}
