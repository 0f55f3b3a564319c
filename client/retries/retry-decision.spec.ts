import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CallAbortedError, JobClientError, RateLimitError } from "../errors.js";
import { decideRetry, type FailedAttempt } from "./retry-decision.js";
import { toJobClientError } from "./to-job-client-error.js";

const policy = { maxRetries: 3, retry: { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 }, random: () => 0.5 };

/** A failed first attempt with `code`, an hour left, of a call safe to repeat. */
function failure(code: Code, overrides: Partial<FailedAttempt> = {}): FailedAttempt {
  const error = toJobClientError(new ConnectError("x", code), {});
  return { error, attempt: 0, remainingMs: 3_600_000, safeToRepeat: true, ...overrides };
}

describe("retry decision", () => {
  it("retries a retryable failure after the jittered backoff of its attempt", () => {
    expect(decideRetry(failure(Code.Unavailable), policy)).toEqual({ kind: "retry", delayMs: 50 });
    expect(decideRetry(failure(Code.Unavailable, { attempt: 2 }), policy)).toEqual({ kind: "retry", delayMs: 200 });
  });

  it("waits at least the server's hint", () => {
    const error = new RateLimitError("slow down", { cause: new ConnectError("x", Code.ResourceExhausted), retryAfterMs: 3_000 });
    expect(decideRetry({ ...failure(Code.ResourceExhausted), error }, { ...policy, random: () => 0 })).toEqual({
      kind: "retry",
      delayMs: 3_000,
    });
  });

  it("never sleeps past the time left", () => {
    expect(decideRetry(failure(Code.Unavailable, { remainingMs: 30 }), policy)).toEqual({ kind: "retry", delayMs: 30 });
  });

  it("times out when the server's hint reaches past the time left", () => {
    const error = new RateLimitError("slow down", { cause: new ConnectError("x", Code.ResourceExhausted), retryAfterMs: 60_000 });
    expect(decideRetry({ ...failure(Code.ResourceExhausted), error, remainingMs: 5_000 }, policy)).toEqual({ kind: "time-out" });
  });

  it("times out when no time is left, whatever the failure", () => {
    expect(decideRetry(failure(Code.Unavailable, { remainingMs: 0 }), policy)).toEqual({ kind: "time-out" });
    expect(decideRetry(failure(Code.InvalidArgument, { remainingMs: -1 }), policy)).toEqual({ kind: "time-out" });
  });

  it("gives up once maxRetries retries have been made", () => {
    expect(decideRetry(failure(Code.Unavailable, { attempt: 2 }), policy).kind).toBe("retry");
    expect(decideRetry(failure(Code.Unavailable, { attempt: 3 }), policy)).toEqual({ kind: "give-up" });
    expect(decideRetry(failure(Code.Unavailable), { ...policy, maxRetries: 0 })).toEqual({ kind: "give-up" });
  });

  it("gives up on an abort, even when time has run out too", () => {
    const error = new CallAbortedError("aborted", { cause: new Error("user left") });
    expect(decideRetry({ ...failure(Code.Unavailable), error }, policy)).toEqual({ kind: "give-up" });
    expect(decideRetry({ ...failure(Code.Unavailable), error, remainingMs: 0 }, policy)).toEqual({ kind: "give-up" });
  });

  it("retries INTERNAL only for calls safe to repeat, and never INVALID_ARGUMENT or NOT_FOUND", () => {
    expect(decideRetry(failure(Code.Internal), policy).kind).toBe("retry");
    expect(decideRetry(failure(Code.Internal, { safeToRepeat: false }), policy)).toEqual({ kind: "give-up" });
    expect(decideRetry(failure(Code.InvalidArgument), policy)).toEqual({ kind: "give-up" });
    expect(decideRetry(failure(Code.NotFound), policy)).toEqual({ kind: "give-up" });
  });

  it("gives up on a failure that did not come from a call", () => {
    const error = new JobClientError("broken invariant", { cause: new Error("bug") });
    expect(decideRetry({ ...failure(Code.Unavailable), error }, policy)).toEqual({ kind: "give-up" });
  });
});
