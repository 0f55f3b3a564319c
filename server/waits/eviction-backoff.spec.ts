import { describe, expect, it } from "vitest";
import { EVICTED_POLL_HINT_MS, EvictionBackoff } from "./eviction-backoff.js";

function backoff(random = () => 0.5) {
  let now = 0;
  const subject = new EvictionBackoff({ maxMs: 30_000, now: () => now, random });
  return {
    subject,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("the hint of evicted waits", () => {
  it("is one second, spread over half to one and a half times, while evictions are rare", () => {
    const { subject } = backoff(() => 0);
    subject.record();
    expect(subject.levelMs()).toBe(EVICTED_POLL_HINT_MS);
    expect(subject.hintMs()).toBe(500);
    expect(backoff(() => 0.999).subject.hintMs()).toBe(1_499);
  });

  it("doubles for each second with evictions in a row, up to MAX_WAIT", () => {
    const { subject, advance } = backoff();
    const levels: number[] = [];
    for (let second = 0; second < 8; second++) {
      for (let i = 0; i < 100; i++) {
        subject.record();
      }
      levels.push(subject.levelMs());
      advance(1_000);
    }
    expect(levels).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("comes back down one step for each second without evictions", () => {
    const { subject, advance } = backoff();
    for (let second = 0; second < 4; second++) {
      subject.record();
      advance(1_000);
    }
    expect(subject.levelMs()).toBe(8_000);
    advance(2_000);
    expect(subject.levelMs()).toBe(2_000);
    advance(10_000);
    expect(subject.levelMs()).toBe(1_000);
    subject.record();
    expect(subject.levelMs()).toBe(1_000);
  });

  it("spreads callers evicted together over the range of their hints", () => {
    let draw = 0;
    const { subject } = backoff(() => (draw++ % 10) / 10);
    subject.record();
    const hints = new Set(Array.from({ length: 10 }, () => subject.hintMs()));
    expect(hints.size).toBe(10);
    expect(Math.min(...hints)).toBe(500);
    expect(Math.max(...hints)).toBe(1_400);
  });
});
