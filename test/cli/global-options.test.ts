import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addGlobalOptions, GLOBAL_DEFAULTS, readGlobalOptions } from "../../cli/global-options.js";
import { CLIENT_DEFAULTS } from "../../client/index.js";

describe("the global options", () => {
  it("retry a failed call as often as the client library does by default", async () => {
    const program = addGlobalOptions(new Command("p")).action(() => {});
    await program.parseAsync([], { from: "user" });
    expect(readGlobalOptions(program).retries).toBe(CLIENT_DEFAULTS.maxRetries);
    expect(GLOBAL_DEFAULTS.retries).toBe(CLIENT_DEFAULTS.maxRetries);
    expect(program.helpInformation()).toContain(`(default: ${CLIENT_DEFAULTS.maxRetries})`);
  });

  it("pins the documented defaults", () => {
    expect(GLOBAL_DEFAULTS).toEqual({ url: "http://127.0.0.1:8000", json: false, retries: 5 });
  });
});
