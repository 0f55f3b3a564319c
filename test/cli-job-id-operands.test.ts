import { describe, expect, it } from "vitest";
import { protectJobIds } from "../cli/job-id-operands.js";

const flags = new Set(["--url", "--timeout", "--page-token", "--wait"]);
const id = "-oRZf13befjhKGdyeJ8e1g";

describe("protectJobIds", () => {
  it("moves a job id that starts with a dash behind --, keeping the options in order", () => {
    expect(protectJobIds(["wait", id, "--timeout", "5s"], flags)).toEqual(["wait", "--timeout", "5s", "--", id]);
    expect(protectJobIds(["--url", "http://x", "cancel", id], flags)).toEqual(["--url", "http://x", "cancel", "--", id]);
  });

  it("leaves option values, other options, plain ids and arguments already behind -- alone", () => {
    const untouched = [
      ["list", "--page-token", id],
      ["wait", "oRZf13befjhKGdyeJ8e1gx", "--json"],
      ["wait", "--", id],
      ["status", "-h"],
    ];
    for (const args of untouched) {
      expect(protectJobIds(args, flags)).toEqual(args);
    }
  });

  it("puts moved ids before the operands of an existing --", () => {
    expect(protectJobIds(["status", id, "--", "x"], flags)).toEqual(["status", "--", id, "x"]);
  });
});
