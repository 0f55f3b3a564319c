import { describe, expect, it } from "vitest";
import { parseProgressLine } from "./progress-line.js";

describe("parseProgressLine", () => {
  it("reads a fraction or a percentage, with or without a message", () => {
    expect(parseProgressLine("progress 0.3")).toEqual({ fraction: 0.3, message: "" });
    expect(parseProgressLine("progress 30% resizing the image")).toEqual({ fraction: 0.3, message: "resizing the image" });
    expect(parseProgressLine("  progress 100%  done  ")).toEqual({ fraction: 1, message: "done" });
    expect(parseProgressLine("progress 12.5% ")).toEqual({ fraction: 0.125, message: "" });
  });

  it("takes no other line for progress, nor a value outside 0..1", () => {
    for (const line of [
      "progress",
      "progress x",
      "progress 1.5",
      "progress 150%",
      "progress -1",
      "warning: progress 3%",
      "progressive 0.5",
    ]) {
      expect(parseProgressLine(line), line).toBeUndefined();
    }
  });
});
