import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { idCommandsOf, protectJobIds } from "../../cli/job-id-operands.js";

const shapes = {
  valueFlags: new Set(["--url", "--timeout", "--page-token", "--wait"]),
  idCommands: new Set(["wait", "cancel", "status"]),
};
const id = "-oRZf13befjhKGdyeJ8e1g";

describe("protectJobIds", () => {
  it("moves a job id that starts with a dash behind --, keeping the options in order", () => {
    expect(protectJobIds(["wait", id, "--timeout", "5s"], shapes)).toEqual(["wait", "--timeout", "5s", "--", id]);
    expect(protectJobIds(["--url", "http://x", "cancel", id], shapes)).toEqual(["--url", "http://x", "cancel", "--", id]);
  });

  it("leaves option values, other options, plain ids and arguments already behind -- alone", () => {
    const untouched = [
      ["list", "--page-token", id],
      ["wait", "oRZf13befjhKGdyeJ8e1gx", "--json"],
      ["wait", "--", id],
      ["status", "-h"],
    ];
    for (const args of untouched) {
      expect(protectJobIds(args, shapes)).toEqual(args);
    }
  });

  it("leaves an id-shaped argument to a command that takes no job id, for commander to call an unknown option", () => {
    expect(protectJobIds(["list", "--page-size-per-page-x"], shapes)).toEqual(["list", "--page-size-per-page-x"]);
    expect(protectJobIds(["--url", "http://x", "create", id], shapes)).toEqual(["--url", "http://x", "create", id]);
  });

  it("puts moved ids before the operands of an existing --", () => {
    expect(protectJobIds(["status", id, "--", "x"], shapes)).toEqual(["status", "--", id, "x"]);
  });
});

describe("idCommandsOf", () => {
  it("names the commands whose first argument is <id>", () => {
    const program = new Command("p");
    program.command("wait").argument("<id>");
    program.command("list");
    program.command("copy").argument("<from>");
    expect(idCommandsOf(program)).toEqual(new Set(["wait"]));
  });
});
