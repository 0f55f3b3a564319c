import type { Job } from "../gen/jobs/v1/job_pb.js";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import type { JobStore } from "./job-store.js";

export interface WaitForChangeOptions {
  /** Longest hold in ms; Infinity holds until a change or a signal. */
  holdMs: number;
  /** Ends the wait early, answering the job as last seen: the caller left or the server closes. */
  signals: readonly AbortSignal[];
}

/** True when a waiter that knows `knownVersion` should be answered with `job` now. */
export function isNews(job: Job, knownVersion: bigint): boolean {
  return job.version !== knownVersion || job.state !== JobState.PENDING;
}

/**
 * Resolves with the job once its version differs from `knownVersion` or it is terminal, woken by
 * the store's change notification. If that does not happen within `holdMs`, or a signal aborts
 * first, resolves with the job as last seen; `seen` is the caller's own latest read of it.
 *
 * Subscribes before reading, so a change that lands between the two is never missed.
 */
export function waitForChange(
  store: JobStore,
  seen: Job,
  knownVersion: bigint,
  { holdMs, signals }: WaitForChangeOptions,
): Promise<Job> {
  return new Promise<Job>((resolve, reject) => {
    let latest = seen;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const settle = (error?: unknown): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      for (const signal of signals) {
        signal.removeEventListener("abort", onStop);
      }
      if (error === undefined) {
        resolve(latest);
      } else {
        reject(error);
      }
    };
    const see = (job: Job): void => {
      if (job.version > latest.version) {
        latest = job;
      }
      if (isNews(latest, knownVersion)) {
        settle();
      }
    };
    const onStop = (): void => settle();

    const unsubscribe = store.subscribe(seen.id, see);
    for (const signal of signals) {
      if (signal.aborted) {
        settle();
        return;
      }
      signal.addEventListener("abort", onStop);
    }
    if (Number.isFinite(holdMs)) {
      timer = setTimeout(onStop, holdMs);
    }
    store.get(seen.id).then((job) => {
      if (job !== undefined) {
        see(job);
      }
    }, settle);
  });
}
