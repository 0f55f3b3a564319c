import { describe, expect, it } from "vitest";
import { RETRY_MAX_MS, retryDelayMs } from "./retry-delay.js";

describe("retryDelayMs", () => {
  it("doubles from one second with each failure, jittered between half and all of it", () => {
    expect([1, 2, 3, 4].map((failures) => retryDelayMs(failures, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4].map((failures) => retryDelayMs(failures, () => 0))).toEqual([500, 1_000, 2_000, 4_000]);
  });

  it("never waits longer than five minutes, however many failures", () => {
    expect(retryDelayMs(50, () => 1)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(1_000, () => 0.999)).toBeLessThanOrEqual(RETRY_MAX_MS);
  });

  it("treats a first failure reported as zero like the first", () => {
    expect(retryDelayMs(0, () => 1)).toBe(1_000);
  });
});
