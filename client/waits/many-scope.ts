import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { isTerminal } from "../constants.js";
import { CallAbortedError, DeadlineExceededError, JobNotFoundError } from "../errors.js";
import { sleep } from "../retries/sleep.js";

/**
 * The most jobs a wait for many follows at once each on its own (LONG and SHORT modes, and long
 * waits where the server does not stream); the others wait their turn. Well under the server's
 * MAX_WAITS_PER_CALLER (500), so that a few such waits side by side are not refused.
 */
export const MAX_FOLLOWED_AT_ONCE = 100;

/** A signal of its own for one part of a wait for many jobs (see ManyScope.link). */
export interface Link {
  /** Aborts when the wait's signal does, with its reason. */
  signal: AbortSignal;
  /** The part is over: its signal need no longer follow the wait's. */
  unlink(): void;
}

/**
 * The time and the signal a wait for many jobs runs under, and each job as last seen: what the
 * streams and the per-job waits behind watchMany share, to end the same way. The signals of its
 * parts (link) abort when the caller's does, and when the wait is closed (done, failed or
 * left), so that nothing the wait started outlives it.
 */
export class ManyScope {
  /** Each job as last seen, by id. */
  readonly last = new Map<string, Job>();
  /** Aborts with the caller's reason when the caller's signal does, or when the wait is closed. */
  private readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly deadline: number;
  private readonly onCallerAbort = (): void => this.abort(this.callerSignal?.reason);
  // The signals of the parts, aborted from here rather than each listening to `signal`: a
  // hundred listeners on one signal would make Node warn of a leak.
  private readonly links = new Set<AbortController>();
  /** Turns of MAX_FOLLOWED_AT_ONCE not taken, and those waiting for one. */
  private free = MAX_FOLLOWED_AT_ONCE;
  private readonly waiting: Array<{ grant: () => void; refuse: (reason: unknown) => void }> = [];

  constructor(
    /** The ids followed, without repeats, in the caller's order. */
    readonly jobIds: readonly string[],
    readonly timeoutMs: number | undefined,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    this.signal = this.controller.signal;
    if (callerSignal?.aborted === true) {
      this.onCallerAbort();
    } else {
      callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
    }
  }

  /** Time left in ms; Infinity without a timeout. */
  remaining(): number {
    return this.deadline - Date.now();
  }

  /** Time left in ms for a call's timeoutMs (never below 0); undefined without a timeout. */
  callTimeout(): number | undefined {
    const left = this.remaining();
    return Number.isFinite(left) ? Math.max(0, left) : undefined;
  }

  /** A signal for one part of the wait (a stream, a job followed on its own), aborted with the wait's. */
  link(): Link {
    const controller = new AbortController();
    if (this.signal.aborted) {
      controller.abort(this.signal.reason);
    } else {
      this.links.add(controller);
    }
    return { signal: controller.signal, unlink: () => this.links.delete(controller) };
  }

  /** Sleeps `ms`, but not past the deadline; rejects with CallAbortedError when `signal` aborts. */
  async pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(Math.min(ms, this.remaining()), signal);
    } catch (reason) {
      throw new CallAbortedError("the wait was aborted by its signal", { cause: reason });
    }
  }

  /** Takes `job` as the last seen of its id; true when it is newer than the one seen before. */
  see(job: Job): boolean {
    const before = this.last.get(job.id);
    if (before !== undefined && job.version <= before.version) {
      return false;
    }
    this.last.set(job.id, job);
    return true;
  }

  /** The error for time running out, with each job as last seen. */
  timedOut(cause?: unknown): DeadlineExceededError {
    const lastJobs = this.jobIds.flatMap((id) => this.last.get(id) ?? []);
    const open = this.jobIds.length - lastJobs.filter(isTerminal).length;
    return new DeadlineExceededError(`${open} of ${this.jobIds.length} jobs did not end within ${this.timeoutMs} ms`, {
      lastJob: lastJobs.find((job) => !isTerminal(job)),
      lastJobs,
      cause,
    });
  }

  /** The error for ids that name no job, as the server listed them. */
  notFound(jobIds: readonly string[]): JobNotFoundError {
    const named = jobIds.map((id) => `"${id}"`).join(", ");
    const message = jobIds.length === 1 ? `job ${named} not found` : `${jobIds.length} jobs not found: ${named}`;
    return new JobNotFoundError(message, { jobId: jobIds[0] as string, jobIds });
  }

  /**
   * Waits for one of the MAX_FOLLOWED_AT_ONCE turns to follow a job on its own, and resolves
   * with the function that gives it back. Rejects with CallAbortedError when the wait aborts.
   */
  takeTurn(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        let given = false;
        resolve(() => {
          if (!given) {
            given = true;
            const next = this.waiting.shift();
            if (next === undefined) {
              this.free++;
            } else {
              next.grant();
            }
          }
        });
      };
      const refuse = (reason: unknown): void =>
        reject(new CallAbortedError("the wait was aborted by its signal", { cause: reason }));
      if (this.signal.aborted) {
        refuse(this.signal.reason);
      } else if (this.free > 0) {
        this.free--;
        grant();
      } else {
        this.waiting.push({ grant, refuse });
      }
    });
  }

  /** Ends the wait: aborts what it still runs, and stops listening to the caller's signal. */
  close(): void {
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
    this.abort(new Error("the wait for these jobs is over"));
  }

  private abort(reason: unknown): void {
    if (this.signal.aborted) {
      return;
    }
    this.controller.abort(reason);
    for (const controller of this.links) {
      controller.abort(reason);
    }
    this.links.clear();
    for (const { refuse } of this.waiting.splice(0)) {
      refuse(reason);
    }
  }
}
