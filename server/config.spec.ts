import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { SERVICE_DEFAULTS } from "./server-options.js";

describe("server configuration", () => {
  it("defaults to the documented values", () => {
    expect(SERVICE_DEFAULTS).toEqual({
      maxWaitMs: 30_000,
      maxJobDurationMs: 3_600_000,
      shortPollRate: 10,
      createRate: 10,
      faultRate: 0,
      maxBodyBytes: 65_536,
      maxWaitsPerCaller: 500,
    });
    expect(loadConfig({})).toEqual({
      ...SERVICE_DEFAULTS,
      port: 8000,
      host: "127.0.0.1",
      jobStore: "memory",
      logLevel: "info",
    });
  });

  it("reads each setting", () => {
    const config = loadConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      MAX_WAIT: "1.5m",
      MAX_JOB_DURATION: "2h",
      SHORT_POLL_RATE: "0",
      CREATE_RATE: "2.5",
      FAULT_RATE: "0.25",
      MAX_BODY_BYTES: "2048",
      MAX_WAITS_PER_CALLER: "3",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      maxWaitMs: 90_000,
      maxJobDurationMs: 7_200_000,
      shortPollRate: 0,
      createRate: 2.5,
      faultRate: 0.25,
      maxBodyBytes: 2_048,
      maxWaitsPerCaller: 3,
      logLevel: "warn",
    });
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["MAX_WAIT", "30"],
    ["MAX_WAIT", "-1s"],
    ["FAULT_RATE", "1.5"],
    ["SHORT_POLL_RATE", "fast"],
    ["JOB_STORE", "postgres"],
    ["LOG_LEVEL", "loud"],
  ])("refuses %s=%s with one line naming the setting, the value and what is allowed", (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(name);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${name}="${value.replace(/[.]/g, "\\.")}" is not valid: expected .+`));
    expect((error as ConfigError).message).not.toMatch(/\n/);
  });
});
