/** One caller's bucket: what the limiter keeps per caller and limit. */
export interface BucketState {
  /** The theoretical arrival time (GCRA): when the bucket is full again, in ms. */
  tat: number;
  /** The earliest retry time promised to a refused call and not yet taken, in ms. */
  first: number;
  /** How many promised retry times are outstanding: first, first + interval, ... */
  promised: number;
}

/** The shape of a limit: a steady rate and the burst allowed above it. */
export interface BucketShape {
  /** Time between two calls at the steady rate, in ms. */
  intervalMs: number;
  /** How many calls may come at once on a full bucket. */
  burst: number;
}

/** What a call's turn at the bucket decided. */
export type Decision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A promised retry that has not come this long after its time is dropped (its caller went away). */
export const PROMISE_GRACE_MS = 1_000;
/** Most promised retries outstanding per bucket; past them, a refusal promises nothing. */
export const MAX_PROMISED = 1_000;
/** A promised call may come this much early: timers fire up to a few ms before their time. */
export const EARLY_MS = 5;

/** A bucket no call has touched: full. */
export function fullBucket(now: number): BucketState {
  return { tat: now, first: now, promised: 0 };
}

/**
 * A token bucket as GCRA, that also spreads the retries it asks for: each refused call is
 * promised a time of its own, one interval after the previous promise, and its token is booked
 * then, while new calls queue behind the promises. (A fixed window tells every refused call the
 * same instant, and refuses most of them again.)
 *
 * `returning` says the call is the one a promise was made to, back at its time (the limiter
 * knows it by its connection: callers behind one address share a bucket but not a connection).
 * It is let through whatever the queue looks like: its token was booked. Another call may still
 * take a promise that has fallen due before its caller came (a caller that opens a connection per
 * call is known only so); the caller it was promised to is then let through all the same, so a
 * caller following the hints is never refused twice, at the cost of one call past the rate for
 * each promise so taken.
 *
 * Pure: takes the state and the time, returns the new state. The Redis limiter runs the same
 * steps in Lua (redis-token-bucket.ts); keep the two alike.
 */
export function takeToken(
  state: BucketState,
  shape: BucketShape,
  now: number,
  returning = false,
): { state: BucketState; decision: Decision } {
  const { intervalMs, burst } = shape;
  const tolerance = (burst - 1) * intervalMs;
  let { tat, first, promised } = state;
  // Promises long past were never taken: their callers left.
  if (promised > 0 && first < now - PROMISE_GRACE_MS) {
    const expired = Math.min(promised, Math.floor((now - PROMISE_GRACE_MS - first) / intervalMs) + 1);
    promised -= expired;
    first += expired * intervalMs;
  }
  const allowed: Decision = { allowed: true };
  if (promised > 0 && (returning || first <= now + EARLY_MS)) {
    // A promise kept: its token was booked when the call was refused.
    return { state: { tat, first: first + intervalMs, promised: promised - 1 }, decision: allowed };
  }
  if (returning || (promised === 0 && tat - tolerance <= now)) {
    // A fresh token; for a returning call whose promise another took, one past the rate.
    return { state: { tat: Math.max(tat, now) + intervalMs, first, promised }, decision: allowed };
  }
  if (promised >= MAX_PROMISED) {
    return { state: { tat, first, promised }, decision: { allowed: false, retryAfterMs: first + promised * intervalMs - now } };
  }
  // The next free time is this call's; book its token.
  const slot = tat - tolerance;
  return {
    state: { tat: tat + intervalMs, first: promised === 0 ? slot : first, promised: promised + 1 },
    decision: { allowed: false, retryAfterMs: slot - now },
  };
}

/** True when `state` is no different from a full bucket at `now`: it may be forgotten. */
export function isIdle(state: BucketState, now: number): boolean {
  return state.promised === 0 && state.tat <= now;
}
