import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CallAbortedError } from "../errors.js";
import { toJobClientError } from "../retries/to-job-client-error.js";
import { claimBackoffMs } from "./claim-backoff.js";

const policy = { retry: { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 }, random: () => 0.5 };
const failed = (error: ConnectError) => toJobClientError(error, {});

describe("claim backoff", () => {
  it("pauses after a retryable failure as the retry policy does, growing with the failures in a row up to maxDelayMs", () => {
    const down = failed(new ConnectError("down", Code.Unavailable));
    expect([0, 1, 2, 3, 4, 50, 5_000].map((failures) => claimBackoffMs(down, failures, policy))).toEqual([
      50, 100, 200, 400, 500, 500, 500,
    ]);
  });

  it("retries INTERNAL and DEADLINE_EXCEEDED too: a claim is safe to repeat", () => {
    expect(claimBackoffMs(failed(new ConnectError("x", Code.Internal)), 0, policy)).toBe(50);
    expect(claimBackoffMs(failed(new ConnectError("x", Code.DeadlineExceeded)), 0, policy)).toBe(50);
  });

  it("waits at least the server's hint", () => {
    const limited = failed(new ConnectError("slow down", Code.ResourceExhausted, { "retry-after": "2" }));
    expect(claimBackoffMs(limited, 0, { ...policy, random: () => 0 })).toBe(2_000);
  });

  it("gives up on what claiming again cannot mend, and on an abort", () => {
    for (const code of [Code.PermissionDenied, Code.Unauthenticated, Code.InvalidArgument, Code.Unimplemented]) {
      expect(claimBackoffMs(failed(new ConnectError("x", code)), 0, policy)).toBeUndefined();
    }
    expect(claimBackoffMs(new CallAbortedError("stopped", { cause: new Error("stop") }), 0, policy)).toBeUndefined();
  });
});
