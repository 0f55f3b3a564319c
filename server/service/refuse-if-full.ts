import { retryLaterError } from "../policy/retry-later-error.js";
import type { HeldWaits } from "../waits/held-waits.js";

/** When a caller who holds as many waits as it may should try again, in ms. */
export const FULL_RETRY_DELAY_MS = 1_000;

/**
 * Throws RESOURCE_EXHAUSTED (with RetryInfo) when `caller` holds as many long waits, watches and
 * claims as MAX_WAITS_PER_CALLER lets it: the one check of every call that holds.
 */
export function refuseIfFull(heldWaits: HeldWaits, caller: string): void {
  if (heldWaits.isFull(caller)) {
    throw retryLaterError("too many long waits, watches and claims held at once for this caller", FULL_RETRY_DELAY_MS);
  }
}
