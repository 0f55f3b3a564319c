import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/support/seeded-random.js";
import {
  type BucketShape,
  type BucketState,
  EARLY_MS,
  fullBucket,
  isIdle,
  MAX_PROMISED,
  PROMISE_GRACE_MS,
  takeToken,
} from "./token-bucket.js";

const shape: BucketShape = { intervalMs: 100, burst: 10 };

/** A bucket and a clock, taking one call at a time. */
function bucket(start = 0) {
  let state: BucketState = fullBucket(start);
  return {
    take(now: number, returning = false) {
      const turn = takeToken(state, shape, now, returning);
      state = turn.state;
      return turn.decision;
    },
    get state() {
      return state;
    },
  };
}

describe("token bucket", () => {
  it("lets a full burst through, then refuses with the time until the next token", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      expect(b.take(0)).toEqual({ allowed: true });
    }
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(b.take(50)).toEqual({ allowed: false, retryAfterMs: 150 });
  });

  it("promises each refused call a time of its own, one interval after the last", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    const delays = Array.from({ length: 5 }, () => b.take(10));
    expect(delays).toEqual([90, 190, 290, 390, 490].map((retryAfterMs) => ({ allowed: false, retryAfterMs })));
  });

  it("lets a refused call through when it comes back at its time, ahead of new calls", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 200 });
    // A new call at 150 ms would take the first promise's token if that caller were late, but
    // here the caller is on time: both promised calls pass, and the newcomer queues behind.
    expect(b.take(100)).toEqual({ allowed: true });
    expect(b.take(150)).toEqual({ allowed: false, retryAfterMs: 150 });
    expect(b.take(200)).toEqual({ allowed: true });
    expect(b.take(300)).toEqual({ allowed: true });
  });

  it("takes a promised call back a few ms early, as timers fire", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(b.take(100 - EARLY_MS)).toEqual({ allowed: true });
  });

  it("lets a returning call through at its time although another call took its promise, one past the rate", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 100 });
    // A newcomer comes at 100 and takes the promise; the caller it was made to, 3 ms later, is let
    // through, on a token of its own (the bucket is one further behind).
    expect(b.take(100)).toEqual({ allowed: true });
    expect(b.take(103, true)).toEqual({ allowed: true });
    expect(b.take(104)).toEqual({ allowed: false, retryAfterMs: 196 });
  });

  it("lets a returning call through ahead of promises made before its own", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    b.take(0);
    b.take(0);
    // The second promised caller (200 ms) comes back while the first (100 ms) is late: both pass.
    expect(b.take(200, true)).toEqual({ allowed: true });
    expect(b.take(210, true)).toEqual({ allowed: true });
    expect(b.state.promised).toBe(0);
  });

  it("never refuses twice in a row any of 20 callers behind one address who follow the hints", () => {
    const random = seededRandom(7);
    const b = bucket();
    // Each caller calls again at once after a success (up to 20 ms later), or after its hint
    // plus a network delay of up to 5 ms (and up to 3 ms early, as timers fire) after a refusal:
    // several times the rate the bucket allows. Each is its own connection.
    const next = Array.from({ length: 20 }, () => random() * 50);
    const promisedAt = new Array<number | undefined>(20).fill(undefined);
    let refusals = 0;
    let twice = 0;
    let allowed = 0;
    for (let step = 0; step < 20_000; step++) {
      const caller = next.indexOf(Math.min(...next));
      const now = next[caller] as number;
      const promise = promisedAt[caller];
      const decision = b.take(now, promise !== undefined && now >= promise - EARLY_MS);
      if (decision.allowed) {
        allowed++;
        promisedAt[caller] = undefined;
        next[caller] = now + random() * 20;
      } else {
        refusals++;
        twice += promise !== undefined ? 1 : 0;
        promisedAt[caller] = now + decision.retryAfterMs;
        next[caller] = now + decision.retryAfterMs - 3 + random() * 8;
      }
    }
    expect(refusals).toBeGreaterThan(1_000);
    expect(twice).toBe(0);
    // What got through stays near the rate (ten per 100 ms, after the first burst).
    const elapsed = Math.max(...next);
    expect(allowed).toBeLessThan(10 + (elapsed / shape.intervalMs) * 1.1);
  });

  it("forgets a promise whose caller never came back, and fills up again", () => {
    const b = bucket();
    for (let i = 0; i < 11; i++) {
      b.take(0);
    }
    expect(b.state.promised).toBe(1);
    const later = 100 + PROMISE_GRACE_MS + 10 * shape.intervalMs;
    expect(b.take(later)).toEqual({ allowed: true });
    expect(b.state.promised).toBe(0);
    expect(isIdle(b.state, later + 1_000)).toBe(true);
  });

  it("promises at most MAX_PROMISED times; past them it refuses with the time after the last", () => {
    const b = bucket();
    for (let i = 0; i < 10 + MAX_PROMISED; i++) {
      b.take(0);
    }
    expect(b.state.promised).toBe(MAX_PROMISED);
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: (MAX_PROMISED + 1) * shape.intervalMs });
    expect(b.state.promised).toBe(MAX_PROMISED);
  });
});
