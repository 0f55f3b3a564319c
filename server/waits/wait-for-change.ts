import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { JobStore } from "../stores/job-store.js";
import type { HeldWaits, ReleaseReason } from "./held-waits.js";
import type { Presence } from "./presence.js";

export interface WaitForChangeOptions {
  /** Longest hold in ms; Infinity holds until a change, the caller leaving, or release. */
  holdMs: number;
  /** Whether the caller is still there: the wait ends when it leaves. */
  presence: Presence;
  /** Where the wait is registered while held, so that closing the server can release it. */
  heldWaits: HeldWaits;
  /** Who waits, for the per-caller count of held waits. */
  caller: string;
  /**
   * Whether `seen` was read after a subscription of the caller's own that is still in place (and
   * whatever it heard is in `seen`): then nothing can have been missed, and the job is not read
   * again. @default false: the job is read again once subscribed
   */
  seenSubscribed?: boolean;
  /** Wake only for the job's end, not for any change (GetStatusRequest.until_terminal). @default false */
  untilTerminal?: boolean;
}

/**
 * How a wait ended: the job changed (or was terminal), `holdMs` passed, the caller left, or the registry released it (the server is closing, or it was evicted to make
 * room for a newer wait).
 */
export type WaitEnd = "changed" | "timed-out" | "caller-left" | ReleaseReason;

/** What waitForChange resolves with: the job as last seen, and how the wait ended. */
export interface WaitResult {
  job: Job;
  end: WaitEnd;
}

/** True when a waiter that knows `knownVersion` should be answered with `job` now. */
export function isNews(job: Job, knownVersion: bigint): boolean {
  return job.version !== knownVersion || job.state !== JobState.PENDING;
}

/**
 * Resolves once the job's version differs from `knownVersion` or it is terminal, woken by the
 * store's change notification. If that does not happen within `holdMs`, or the caller leaves,
 * or the wait is released, resolves with the job as last seen; `seen` is the caller's own
 * latest read of it. The result says which of these ended the wait.
 *
 * Subscribes before reading, so a change that lands between the two is never missed (or, with
 * `seenSubscribed`, trusts the caller to have done so).
 */
export function waitForChange(
  store: JobStore,
  seen: Job,
  knownVersion: bigint,
  { holdMs, presence, heldWaits, caller, seenSubscribed = false, untilTerminal = false }: WaitForChangeOptions,
): Promise<WaitResult> {
  if (presence.left) {
    return Promise.resolve({ job: seen, end: "caller-left" });
  }
  if (heldWaits.isClosed) {
    return Promise.resolve({ job: seen, end: "closing" });
  }
  return new Promise<WaitResult>((resolve, reject) => {
    let latest = seen;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const stop = (): boolean => {
      if (settled) {
        return false;
      }
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      unhold();
      forget();
      return true;
    };
    const settle = (end: WaitEnd): void => {
      if (stop()) {
        resolve({ job: latest, end });
      }
    };
    const fail = (error: unknown): void => {
      if (stop()) {
        reject(error);
      }
    };
    const see = (job: Job): void => {
      if (job.version > latest.version) {
        latest = job;
      }
      if (untilTerminal ? latest.state !== JobState.PENDING : isNews(latest, knownVersion)) {
        settle("changed");
      }
    };

    const unsubscribe = store.subscribe(seen.id, see);
    const unhold = heldWaits.hold(caller, settle);
    const forget = presence.onLeave(() => settle("caller-left"));
    if (Number.isFinite(holdMs)) {
      timer = setTimeout(() => settle("timed-out"), holdMs);
    }
    if (!seenSubscribed) {
      store.get(seen.id).then((stored) => {
        if (stored !== undefined) {
          see(stored.job);
        }
      }, fail);
    }
  });
}
