import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { backoffDelayMs, isRetryable, retryDelayMs, retryHintMs } from "./retry-policy.js";

const options = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 };

describe("retry policy", () => {
  it("retries UNAVAILABLE and RESOURCE_EXHAUSTED for every call", () => {
    for (const code of [Code.Unavailable, Code.ResourceExhausted]) {
      expect(isRetryable(new ConnectError("x", code), false)).toBe(true);
    }
  });

  it("retries INTERNAL, UNKNOWN and DEADLINE_EXCEEDED only for calls safe to repeat", () => {
    for (const code of [Code.Internal, Code.Unknown, Code.DeadlineExceeded]) {
      expect(isRetryable(new ConnectError("x", code), true)).toBe(true);
      expect(isRetryable(new ConnectError("x", code), false)).toBe(false);
    }
  });

  it("retries a request that never reached a server, whatever its code", () => {
    const refused = new ConnectError("fetch failed", Code.Unknown, undefined, undefined, new TypeError("fetch failed"));
    expect(isRetryable(refused, false)).toBe(true);
    const reset = new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
    expect(isRetryable(reset, false)).toBe(true);
  });

  it("never retries a port fetch refuses unsent (Node's fetch: bad port)", () => {
    const blocked = new TypeError("fetch failed", { cause: new Error("bad port") });
    expect(isRetryable(new ConnectError("fetch failed", Code.Unknown, undefined, undefined, blocked), true)).toBe(false);
  });

  it("grows the backoff cap exponentially up to maxDelayMs, jittered over the whole cap", () => {
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, options, () => 1))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(3, options, () => 0.25)).toBe(200);
  });

  it("never waits less than the server's hint", () => {
    expect(retryDelayMs(0, 5_000, options, () => 0)).toBe(5_000);
    expect(retryDelayMs(0, 5_000, options, () => 0.999)).toBeLessThanOrEqual(5_500);
    expect(retryDelayMs(0, undefined, options, () => 0.5)).toBe(50);
  });

  it("reads the hint from RetryInfo first, then retry-after, then grpc-retry-pushback-ms", () => {
    const info = create(RetryInfoSchema, { retryDelay: durationFromMs(1_250) });
    const both = new ConnectError("x", Code.ResourceExhausted, { "retry-after": "9" }, [{ desc: RetryInfoSchema, value: info }]);
    expect(retryHintMs(both)).toBe(1_250);
    expect(retryHintMs(new ConnectError("x", Code.ResourceExhausted, { "retry-after": "2" }))).toBe(2_000);
    const date = new Date(10_000).toUTCString();
    expect(retryHintMs(new ConnectError("x", Code.ResourceExhausted, { "retry-after": date }), 4_000)).toBe(6_000);
    expect(retryHintMs(new ConnectError("x", Code.Unavailable, { "grpc-retry-pushback-ms": "300" }))).toBe(300);
    expect(retryHintMs(new ConnectError("x", Code.Unavailable))).toBeUndefined();
  });
});
