import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/support/seeded-random.js";
import {
  type BucketShape,
  type BucketState,
  EARLY_MS,
  fullBucket,
  isIdle,
  LATE_MS,
  MAX_PROMISED,
  PROMISE_GRACE_MS,
  takeToken,
} from "./token-bucket.js";

const shape: BucketShape = { intervalMs: 100, burst: 10 };

/** A bucket and a clock, taking one call at a time. */
function bucket(start = 0) {
  let state: BucketState = fullBucket(start);
  return {
    take(now: number) {
      const turn = takeToken(state, shape, now);
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

  it("lets in, once, a call just late for a promised time another call of its address took", () => {
    const b = bucket();
    for (let i = 0; i < 10; i++) {
      b.take(0);
    }
    expect(b.take(0)).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(b.take(50)).toEqual({ allowed: false, retryAfterMs: 150 });
    // Someone else comes at 100 and takes the first promise; its caller, 3 ms later, is let in.
    expect(b.take(100)).toEqual({ allowed: true });
    expect(b.take(103)).toEqual({ allowed: true });
    // Only once per promise, and only just after it.
    expect(b.take(104)).toEqual({ allowed: false, retryAfterMs: 196 });
    expect(b.take(200)).toEqual({ allowed: true });
    expect(b.take(200 + LATE_MS + 1)).toEqual({ allowed: false, retryAfterMs: 400 - (200 + LATE_MS + 1) });
  });

  it("never refuses twice in a row any of 20 callers behind one address who follow the hints", () => {
    const random = seededRandom(7);
    const b = bucket();
    // Each caller calls again at once after a success (up to 20 ms later), or after its hint
    // plus a network delay of up to 5 ms after a refusal: twice the rate the bucket allows.
    const next = Array.from({ length: 20 }, () => random() * 50);
    const refusedLast = new Array<boolean>(20).fill(false);
    let refusals = 0;
    let twice = 0;
    for (let step = 0; step < 20_000; step++) {
      const caller = next.indexOf(Math.min(...next));
      const now = next[caller] as number;
      const decision = b.take(now);
      if (decision.allowed) {
        refusedLast[caller] = false;
        next[caller] = now + random() * 20;
      } else {
        refusals++;
        twice += refusedLast[caller] ? 1 : 0;
        refusedLast[caller] = true;
        next[caller] = now + decision.retryAfterMs + random() * 5;
      }
    }
    expect(refusals).toBeGreaterThan(1_000);
    expect(twice).toBe(0);
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
