import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../cli/duration.js";

describe("parseDuration", () => {
  it("reads a number and a unit of ms, s, m or h into ms", () => {
    expect(["500ms", "5s", "1.5m", "1h", "0s", ".5s", " 2s "].map(parseDuration)).toEqual([
      500, 5_000, 90_000, 3_600_000, 0, 500, 2_000,
    ]);
  });

  it("rejects a missing or unknown unit and negative numbers with a RangeError naming the text", () => {
    for (const text of ["5", "5x", "-1s", "1 s", "s", "", "1e3ms", "1.s"]) {
      expect(() => parseDuration(text), text).toThrow(RangeError);
    }
    expect(() => parseDuration("5")).toThrow(/"5" is not a duration/);
  });
});

describe("formatDuration", () => {
  it("writes ms below a second, tenths of seconds below a minute, then minutes and hours", () => {
    expect([0, 850, 1_000, 4_240, 65_000, 7_380_000, -20].map(formatDuration)).toEqual([
      "0ms",
      "850ms",
      "1s",
      "4.2s",
      "1m 05s",
      "2h 03m",
      "0ms",
    ]);
  });
});
