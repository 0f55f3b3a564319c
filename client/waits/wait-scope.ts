import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { CallAbortedError, DeadlineExceededError } from "../errors.js";
import { sleep } from "../retries/sleep.js";

/**
 * The time and the signal a wait for a job runs under, and the job as last seen: what every way
 * of following a job (polls, long waits, streams) needs to end it the same way.
 */
export class WaitScope {
  /** The job as last seen, reported with DeadlineExceededError. */
  last: Job | undefined;
  private readonly deadline: number;

  /** `timeoutMs` runs from `startedAt`, ms since the epoch (by default, now). */
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number | undefined,
    readonly signal: AbortSignal | undefined,
    startedAt = Date.now(),
  ) {
    this.deadline = timeoutMs === undefined ? Infinity : startedAt + timeoutMs;
  }

  /** Time left in ms; Infinity without a timeout. */
  remaining(): number {
    return this.deadline - Date.now();
  }

  /** Time left in ms for a call's timeoutMs; undefined without a timeout. */
  callTimeout(): number | undefined {
    const left = this.remaining();
    return Number.isFinite(left) ? left : undefined;
  }

  /** The error for time running out, with the job as last seen. */
  timedOut(cause?: unknown): DeadlineExceededError {
    return new DeadlineExceededError(`job ${this.jobId} did not end within ${this.timeoutMs} ms`, {
      lastJob: this.last,
      cause,
    });
  }

  /** Sleeps `ms`, but not past the deadline; rejects with CallAbortedError when the signal aborts. */
  async pause(ms: number): Promise<void> {
    try {
      await sleep(Math.min(ms, this.remaining()), this.signal);
    } catch (reason) {
      throw new CallAbortedError("the wait was aborted by its signal", { cause: reason });
    }
  }

  /** Takes `job` as the last seen; true when it is a new version. */
  see(job: Job): boolean {
    if (this.last !== undefined && job.version === this.last.version) {
      return false;
    }
    this.last = job;
    return true;
  }
}
