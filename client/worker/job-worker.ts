import { Code } from "@connectrpc/connect";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { ClaimJobResponse } from "../../gen/jobs/v1/worker_service_pb.js";
import { openConnection } from "../connection.js";
import type { JobClientError } from "../errors.js";
import { logRetry } from "../retries/retry-decision.js";
import { backoffDelayMs } from "../retries/retry-policy.js";
import { sleep } from "../retries/sleep.js";
import { claimBackoffMs } from "./claim-backoff.js";
import { JobLease } from "./job-lease.js";
import { type JobWorkerOptions, type ResolvedWorkerOptions, resolveWorkerOptions } from "./job-worker-options.js";
import { runClaimedJob } from "./run-claimed-job.js";
import { WorkAbortedError } from "./worker-errors.js";
import { WorkerRpc } from "./worker-rpc.js";

/** An empty claim answered sooner than this, in ms, was not held: the next one waits a little first. */
const EARLY_EMPTY_CLAIM_MS = 100;

/** What stop() takes. */
export interface StopOptions {
  /**
   * Also abort the signals of the jobs in hand (why "stopping"), instead of letting them run to
   * their end. What their handlers then return or throw is still reported. @default false
   */
  force?: boolean;
}

/**
 * Does the jobs of some kinds: `concurrency` loops each claim a job (a long wait until one
 * comes), run the handler on it while heartbeats keep its lease and carry its progress, and
 * report the result (CompleteJob) or the failure (FailJob), then claim the next.
 *
 * @example
 * const worker = new JobWorker({
 *   baseUrl: "http://127.0.0.1:8000",
 *   kinds: ["thumbnail"],
 *   concurrency: 4,
 *   handler: async (job, { signal, progress }) => {
 *     const { url } = jobInput(job) as { url: string };
 *     progress(0.5, "downloading");
 *     const response = await fetch(url, { signal });
 *     return { bytes: (await response.arrayBuffer()).byteLength };
 *   },
 * });
 * const stopped = worker.start();
 * // later, on SIGTERM: finish the jobs in hand, claim no more
 * await worker.stop();
 */
export class JobWorker {
  readonly #settings: ResolvedWorkerOptions;
  readonly #rpc: WorkerRpc;
  /** Aborts the held claims and the pauses between them: stop() was called, or claiming failed for good. */
  readonly #claims = new AbortController();
  readonly #leases = new Set<JobLease>();
  #done: Promise<void> | undefined;
  #forced = false;
  /** The claim failure that stopped the worker, if one did. */
  #failure: JobClientError | undefined;

  constructor(options: JobWorkerOptions) {
    this.#settings = resolveWorkerOptions(options);
    this.#rpc = new WorkerRpc(openConnection(options, "JobWorker"), this.#settings);
  }

  /** How many jobs the worker holds now: claimed, and not yet reported. */
  get running(): number {
    return this.#leases.size;
  }

  /**
   * Begins claiming and doing jobs. Resolves once the worker has stopped, every job in hand
   * reported: after stop(), or after a claim failed in a way retries cannot mend (UNAUTHENTICATED,
   * PERMISSION_DENIED, INVALID_ARGUMENT, UNIMPLEMENTED, ...), which it then rejects with (and
   * tells onError). Left unawaited, that rejection is not an unhandled one. Calling it again
   * returns the same promise; a stopped worker does not start again.
   */
  start(): Promise<void> {
    if (this.#done === undefined) {
      const loops = this.#claims.signal.aborted
        ? []
        : Array.from({ length: this.#settings.concurrency }, () => this.#claimLoop());
      this.#done = Promise.all(loops).then(() => {
        if (this.#failure !== undefined) {
          throw this.#failure;
        }
      });
      this.#done.catch(() => undefined);
    }
    return this.#done;
  }

  /**
   * Stops claiming (held claims are ended at once), lets the jobs in hand run to their end
   * (or aborts their signals, with `force`), and resolves once each is reported: no call or
   * timer of the worker's is left then. Safe to call more than once, and before start().
   */
  async stop(options: StopOptions = {}): Promise<void> {
    this.#claims.abort(stopping());
    if (options.force === true && !this.#forced) {
      this.#forced = true;
      for (const lease of this.#leases) {
        lease.abort(stopping());
      }
    }
    await this.#done?.catch(() => undefined);
  }

  /** Claims and does jobs, one at a time, until the claims are aborted. */
  async #claimLoop(): Promise<void> {
    const { signal } = this.#claims;
    const { logger } = this.#settings;
    let failures = 0;
    while (!signal.aborted) {
      const askedAt = Date.now();
      let claim: Awaited<ReturnType<WorkerRpc["claim"]>>;
      try {
        claim = await this.#rpc.claim(signal);
      } catch (caught) {
        if (signal.aborted) {
          return;
        }
        const error = caught as JobClientError;
        const delayMs = claimBackoffMs(error, failures, this.#settings);
        if (delayMs === undefined) {
          this.#stopFor(error);
          return;
        }
        logRetry(logger, { method: "ClaimJob", jobId: undefined, attempt: failures, delayMs, error });
        failures++;
        await sleep(delayMs, signal).catch(() => undefined);
        continue;
      }
      failures = 0;
      const { job, leaseToken } = claim;
      if (job === undefined) {
        // A server that answers at once (one shutting down, or one that does not hold claims)
        // is not asked again in a tight loop.
        if (this.#settings.claimWaitMs >= EARLY_EMPTY_CLAIM_MS && Date.now() - askedAt < EARLY_EMPTY_CLAIM_MS) {
          await sleep(backoffDelayMs(0, this.#settings.retry, this.#settings.random), signal).catch(() => undefined);
        }
        continue;
      }
      // A job claimed just as stop() was called is in hand all the same: it is done, not dropped.
      // A busy worker's next job comes with the completion of the last, while one is waiting.
      let next: { job?: Job; leaseToken: string } | undefined = { job, leaseToken };
      while (next?.job !== undefined) {
        next = await this.#run(next.job, next.leaseToken, Date.now());
      }
    }
  }

  async #run(job: Job, leaseToken: string, claimedAt: number): Promise<ClaimJobResponse | undefined> {
    const { leaseMs, heartbeatMs, logger } = this.#settings;
    const lease = new JobLease({ rpc: this.#rpc, jobId: job.id, leaseToken, claimedAt, leaseMs, heartbeatMs, logger });
    if (this.#forced) {
      lease.abort(stopping());
    }
    this.#leases.add(lease);
    try {
      return await runClaimedJob({
        job,
        leaseToken,
        lease,
        rpc: this.#rpc,
        settings: this.#settings,
        reportError: (error, failed) => this.#tell(error, failed),
        wantsNext: () => !this.#claims.signal.aborted,
      });
    } finally {
      this.#leases.delete(lease);
    }
  }

  /** Stops the worker after a claim failure that retries cannot mend. */
  #stopFor(error: JobClientError): void {
    if (this.#failure === undefined) {
      this.#failure = error;
      this.#tell(error, undefined);
    }
    this.#claims.abort(error);
  }

  /** Logs an error and hands it to onError; an onError that throws is logged, not rethrown. */
  #tell(error: JobClientError, job: Job | undefined): void {
    const { logger, onError } = this.#settings;
    const fields = {
      ...(job === undefined ? {} : { jobId: job.id }),
      code: error.code === undefined ? undefined : Code[error.code],
      error: error.message,
    };
    logger.error?.(fields, job === undefined ? `claiming failed: ${error.name}` : `job ${job.id} could not be reported`);
    try {
      onError?.(error, job);
    } catch (thrown) {
      logger.error?.({ error: String(thrown) }, "onError threw");
    }
  }
}

function stopping(): WorkAbortedError {
  return new WorkAbortedError("the worker is stopping", { why: "stopping" });
}
