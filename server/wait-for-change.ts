import type { Job } from "../gen/jobs/v1/job_pb.js";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import type { HeldWaits } from "./held-waits.js";
import type { JobStore } from "./job-store.js";

export interface WaitForChangeOptions {
  /** Longest hold in ms; Infinity holds until a change, the caller leaving, or release. */
  holdMs: number;
  /** The caller's signal: aborted when the caller leaves or its deadline passes. */
  signal: AbortSignal;
  /** Where the wait is registered while held, so that closing the server can release it. */
  heldWaits: HeldWaits;
  /** Who waits, for the per-caller count of held waits. */
  caller: string;
}

/** True when a waiter that knows `knownVersion` should be answered with `job` now. */
export function isNews(job: Job, knownVersion: bigint): boolean {
  return job.version !== knownVersion || job.state !== JobState.PENDING;
}

/**
 * Resolves with the job once its version differs from `knownVersion` or it is terminal, woken by
 * the store's change notification. If that does not happen within `holdMs`, or the caller's signal
 * aborts, or the wait is released, resolves with the job as last seen; `seen` is the caller's own
 * latest read of it.
 *
 * Subscribes before reading, so a change that lands between the two is never missed.
 */
export function waitForChange(
  store: JobStore,
  seen: Job,
  knownVersion: bigint,
  { holdMs, signal, heldWaits, caller }: WaitForChangeOptions,
): Promise<Job> {
  if (signal.aborted || heldWaits.isClosed) {
    return Promise.resolve(seen);
  }
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
      unhold();
      signal.removeEventListener("abort", onStop);
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
    const unhold = heldWaits.hold(caller, onStop);
    signal.addEventListener("abort", onStop);
    if (Number.isFinite(holdMs)) {
      timer = setTimeout(onStop, holdMs);
    }
    store.get(seen.id).then((stored) => {
      if (stored !== undefined) {
        see(stored.job);
      }
    }, settle);
  });
}
