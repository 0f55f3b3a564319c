import { describe, expect, it } from "vitest";
import { CLIENT_DEFAULTS } from "../job-client-options.js";
import { silentLogger } from "../logger.js";
import { resolveWorkerOptions, WORKER_DEFAULTS } from "./job-worker-options.js";

const handler = async () => undefined;

describe("worker defaults", () => {
  it("are the documented values", () => {
    expect(WORKER_DEFAULTS).toEqual({ concurrency: 1, leaseMs: 30_000, claimWaitMs: 20_000, heartbeatFraction: 1 / 3 });
  });

  it("fill every option left out (JobClient's for retries and timeouts), and keep those given", () => {
    const resolved = resolveWorkerOptions({ kinds: ["a"], handler });
    expect(resolved).toMatchObject({
      kinds: ["a"],
      concurrency: 1,
      workerId: "",
      leaseMs: 30_000,
      claimWaitMs: 20_000,
      heartbeatMs: 10_000,
      maxRetries: CLIENT_DEFAULTS.maxRetries,
      retry: CLIENT_DEFAULTS.retry,
      requestTimeoutMs: CLIENT_DEFAULTS.requestTimeoutMs,
      logger: silentLogger,
      onError: undefined,
    });
    const given = resolveWorkerOptions({ kinds: ["a", "b"], handler, concurrency: 4, leaseMs: 6_000, heartbeatFraction: 0.5 });
    expect(given).toMatchObject({ concurrency: 4, leaseMs: 6_000, heartbeatMs: 3_000 });
  });

  it("copies the kinds, so that changing the caller's array later changes nothing", () => {
    const kinds = ["a"];
    const resolved = resolveWorkerOptions({ kinds, handler });
    kinds.push("b");
    expect(resolved.kinds).toEqual(["a"]);
  });

  it("refuse values that cannot work with an error naming the option", () => {
    expect(() => resolveWorkerOptions({ kinds: [], handler })).toThrow(/kinds/);
    expect(() => resolveWorkerOptions({ kinds: [""], handler })).toThrow(/kinds/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler: undefined as never })).toThrow(/handler/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, leaseMs: 999 })).toThrow(/leaseMs/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, claimWaitMs: -1 })).toThrow(/claimWaitMs/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, heartbeatFraction: 1 })).toThrow(/heartbeatFraction/);
    expect(() => resolveWorkerOptions({ kinds: ["a"], handler, maxRetries: -1 })).toThrow(/maxRetries/);
  });
});
