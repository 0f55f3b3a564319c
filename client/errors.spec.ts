import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import * as errors from "./errors.js";

// A second copy of this module, as an app gets when two bundles (or two versions of the library)
// each carry one: the query makes vitest load and run the file again, with classes of its own.
type ErrorsModule = typeof errors;
const copyUrl = new URL("./errors.ts?copy", import.meta.url).href;

describe("instanceof across copies of the library", () => {
  let copy: ErrorsModule;
  beforeAll(async () => {
    copy = (await import(/* @vite-ignore */ copyUrl)) as ErrorsModule;
  });

  it("loads a copy whose classes are not the same objects", () => {
    expect(copy.JobClientError).not.toBe(errors.JobClientError);
    expect(copy.NetworkError).not.toBe(errors.NetworkError);
    expect(Object.getPrototypeOf(new copy.NetworkError("x"))).not.toBe(errors.NetworkError.prototype);
  });

  it("takes the other copy's errors as JobClientError, both ways", () => {
    expect(new copy.JobClientError("x")).toBeInstanceOf(errors.JobClientError);
    expect(new errors.JobClientError("x")).toBeInstanceOf(copy.JobClientError);
  });

  it("takes the other copy's subclass errors as that subclass and as JobClientError, both ways", () => {
    const theirs = new copy.RateLimitError("slow down", { retryAfterMs: 1_000 });
    expect(theirs).toBeInstanceOf(errors.RateLimitError);
    expect(theirs).toBeInstanceOf(errors.JobClientError);
    const ours = new errors.DeadlineExceededError("late", {});
    expect(ours).toBeInstanceOf(copy.DeadlineExceededError);
    expect(ours).toBeInstanceOf(copy.JobClientError);
  });

  it("does not take an error as a class it is not, from either copy", () => {
    const theirs = new copy.NetworkError("down");
    expect(theirs).not.toBeInstanceOf(errors.RateLimitError);
    expect(theirs).not.toBeInstanceOf(errors.ServerError);
    expect(new copy.JobClientError("x")).not.toBeInstanceOf(errors.NetworkError);
    expect(new errors.JobClientError("x")).not.toBeInstanceOf(copy.CallAbortedError);
  });

  it("does not take other errors, or look-alikes by name, as ours", () => {
    for (const other of [
      new Error("x"),
      new ConnectError("x", Code.Unavailable),
      Object.assign(new Error("x"), { name: "NetworkError", code: Code.Unavailable }),
      { name: "JobClientError", message: "x", code: Code.Internal },
      "JobClientError",
      null,
      undefined,
    ]) {
      expect(other instanceof errors.JobClientError).toBe(false);
      expect(other instanceof copy.NetworkError).toBe(false);
    }
  });

  it("checks a subclass of the caller's own as usual: its instances are ours, ours are not its", () => {
    class QuotaError extends errors.RateLimitError {}
    const quota = new QuotaError("quota", {});
    expect(quota).toBeInstanceOf(QuotaError);
    expect(quota).toBeInstanceOf(errors.RateLimitError);
    expect(quota).toBeInstanceOf(copy.RateLimitError);
    expect(quota).toBeInstanceOf(copy.JobClientError);
    expect(new errors.RateLimitError("x", {})).not.toBeInstanceOf(QuotaError);
    expect(new copy.RateLimitError("x", {})).not.toBeInstanceOf(QuotaError);
  });
});
