import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { type Progress, ProgressSchema } from "../../gen/jobs/v1/job_pb.js";
import type { JobClientError } from "../errors.js";
import type { Logger } from "../logger.js";
import { WorkAbortedError } from "./worker-errors.js";
import type { WorkerRpc } from "./worker-rpc.js";

/** Progress reports sooner than this after the last heartbeat wait for it to pass, in ms. */
export const PROGRESS_HEARTBEAT_GAP_MS = 250;

/** Progress.message is at most this many characters; longer messages are cut. */
const MAX_MESSAGE_LENGTH = 256;

export interface JobLeaseOptions {
  rpc: WorkerRpc;
  jobId: string;
  leaseToken: string;
  /** When the claim was answered (ms since the epoch): the lease runs from about then. */
  claimedAt: number;
  leaseMs: number;
  heartbeatMs: number;
  logger: Logger;
}

/**
 * The lease of one claimed job, kept alive by heartbeats while its handler runs: one every
 * heartbeatMs, and one sooner (at most once per PROGRESS_HEARTBEAT_GAP_MS) when progress was
 * reported, carrying the latest report. `signal` aborts with a WorkAbortedError when a heartbeat
 * answers cancel_requested ("cancelled"), when the server refuses the lease (FAILED_PRECONDITION,
 * NOT_FOUND) or heartbeats fail until it has run out ("lease-lost"), or on `abort()`.
 * One heartbeat is in flight at a time; `end()` stops them and clears every timer.
 */
export class JobLease {
  readonly #options: JobLeaseOptions;
  readonly #work = new AbortController();
  /** Aborts the heartbeat in flight once the lease is no longer needed. */
  readonly #calls = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  /** The latest progress no heartbeat has carried yet. */
  #pending: Progress | undefined;
  #lastBeatAt = -Infinity;
  #nextBeatAt: number;
  #expiresAt: number;
  /** False after a failed heartbeat, until one succeeds: progress then waits for the next regular one. */
  #healthy = true;
  /** Set when heartbeats stopped: the job ended here, or the lease is over. */
  #over: "ended" | "cancelled" | "lease-lost" | undefined;

  constructor(options: JobLeaseOptions) {
    this.#options = options;
    this.#expiresAt = options.claimedAt + options.leaseMs;
    this.#nextBeatAt = options.claimedAt + options.heartbeatMs;
  }

  /** The handler's signal. */
  get signal(): AbortSignal {
    return this.#work.signal;
  }

  /** When the lease runs out as far as this worker knows (ms since the epoch). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** Why the lease is over before the job ended here, if it is: nothing about the job may be reported then. */
  get lost(): "cancelled" | "lease-lost" | undefined {
    return this.#over === "cancelled" || this.#over === "lease-lost" ? this.#over : undefined;
  }

  /** Starts the heartbeats. */
  start(): void {
    this.#schedule();
  }

  /** The handler's progress(): validates, keeps only the latest, and brings the next heartbeat forward. */
  readonly progress = (fraction: number, message = ""): void => {
    if (typeof fraction !== "number" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new RangeError(`progress must be a number from 0 to 1, got ${String(fraction)}`);
    }
    if (typeof message !== "string") {
      throw new TypeError(`a progress message must be a string, got ${typeof message}`);
    }
    if (this.#over !== undefined) {
      return;
    }
    const cut = message.length > MAX_MESSAGE_LENGTH ? Array.from(message).slice(0, MAX_MESSAGE_LENGTH).join("") : message;
    this.#pending = create(ProgressSchema, { fraction, message: cut });
    this.#schedule();
  };

  /** Aborts the handler's signal with `reason`; heartbeats go on until end(). */
  abort(reason: WorkAbortedError): void {
    if (!this.#work.signal.aborted) {
      this.#work.abort(reason);
    }
  }

  /** Stops the heartbeats: clears the timer, ends the heartbeat in flight and waits for it to settle. */
  async end(): Promise<void> {
    this.#over ??= "ended";
    this.#stopBeating();
    await this.#inFlight;
  }

  #stopBeating(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#calls.abort();
  }

  /** Sets the timer of the next heartbeat: the regular one, or sooner for progress not yet sent. */
  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#over !== undefined || this.#inFlight !== undefined) {
      return;
    }
    const now = Date.now();
    let at = this.#nextBeatAt;
    if (this.#pending !== undefined && this.#healthy) {
      at = Math.min(at, Math.max(now, this.#lastBeatAt + PROGRESS_HEARTBEAT_GAP_MS));
    }
    this.#timer = setTimeout(() => this.#beat(), Math.max(0, at - now));
  }

  #beat(): void {
    this.#timer = undefined;
    const sentAt = Date.now();
    this.#lastBeatAt = sentAt;
    const progress = this.#pending;
    this.#inFlight = this.#send(progress, sentAt).finally(() => {
      this.#inFlight = undefined;
      this.#schedule();
    });
  }

  async #send(progress: Progress | undefined, sentAt: number): Promise<void> {
    const { rpc, jobId, leaseToken, leaseMs, heartbeatMs, logger } = this.#options;
    let cancelRequested: boolean;
    try {
      ({ cancelRequested } = await rpc.heartbeat(
        { jobId, leaseToken, progress },
        { deadline: this.#expiresAt, signal: this.#calls.signal },
      ));
    } catch (caught) {
      if (this.#over !== undefined) {
        return;
      }
      const error = caught as JobClientError;
      if (error.code === Code.FailedPrecondition || error.code === Code.NotFound) {
        this.#lose("lease-lost", `the server ended the lease of job ${jobId}: ${error.message}`, error);
      } else if (Date.now() >= this.#expiresAt) {
        this.#lose("lease-lost", `heartbeats of job ${jobId} failed until its lease ran out`, error);
      } else {
        logger.warn?.({ jobId, error: error.message }, "heartbeat failed; trying again before the lease runs out");
        this.#healthy = false;
        this.#nextBeatAt = Math.min(Date.now() + heartbeatMs, this.#expiresAt);
      }
      return;
    }
    if (this.#over !== undefined) {
      return;
    }
    if (cancelRequested) {
      this.#lose("cancelled", `job ${jobId} was cancelled`);
      return;
    }
    this.#healthy = true;
    this.#expiresAt = sentAt + leaseMs;
    this.#nextBeatAt = sentAt + heartbeatMs;
    if (this.#pending === progress) {
      this.#pending = undefined;
    }
  }

  #lose(why: "cancelled" | "lease-lost", message: string, cause?: unknown): void {
    this.#over = why;
    this.#stopBeating();
    this.#options.logger.info?.({ jobId: this.#options.jobId, why }, message);
    // A force stop may have aborted the signal already; the lease is over all the same.
    this.abort(new WorkAbortedError(message, { why, cause }));
  }
}
