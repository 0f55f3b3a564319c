import { describe, expect, it } from "vitest";
import { CLIENT_DEFAULTS, resolveClientOptions } from "./job-client-options.js";
import { silentLogger } from "./logger.js";

describe("client defaults", () => {
  it("are the documented values", () => {
    expect(CLIENT_DEFAULTS).toEqual({
      maxRetries: 5,
      retry: { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 },
      requestTimeoutMs: 30_000,
      longWaitMs: 30_000,
      mode: "long",
      pollIntervalMs: 1_000,
      manyMode: "stream",
    });
  });

  it("fill every option left out, and keep those given", () => {
    const resolved = resolveClientOptions({ maxRetries: 0, retry: { maxDelayMs: 50 } });
    expect(resolved.maxRetries).toBe(0);
    expect(resolved.retry).toEqual({ initialDelayMs: 200, maxDelayMs: 50, multiplier: 2 });
    expect(resolved.requestTimeoutMs).toBe(30_000);
    expect(resolved.longWaitMs).toBe(30_000);
    expect(resolved.logger).toBe(silentLogger);
    expect(resolved.apiKey).toBeUndefined();
  });

  it("refuse values that cannot work with a RangeError naming the option", () => {
    expect(() => resolveClientOptions({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => resolveClientOptions({ retry: { multiplier: 0.5 } })).toThrow(/retry.multiplier/);
    expect(() => resolveClientOptions({ requestTimeoutMs: Number.NaN })).toThrow(/requestTimeoutMs/);
  });
});
