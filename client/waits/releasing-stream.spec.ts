import { describe, expect, it } from "vitest";
import { releasingStream } from "./releasing-stream.js";

/** A stream of `messages` that records its call's signal and every read, as Connect's does. */
function fakeCall(messages: number[]) {
  const seen: { signal?: AbortSignal; reads: number; readsAfterAbort: number } = {
    reads: 0,
    readsAfterAbort: 0,
  };
  const open = (signal: AbortSignal): AsyncIterable<number> => {
    seen.signal = signal;
    let next = 0;
    return {
      [Symbol.asyncIterator]: () => ({
        async next() {
          seen.reads++;
          if (signal.aborted) {
            seen.readsAfterAbort++;
            throw signal.reason;
          }
          if (next === messages.length) {
            return { done: true, value: undefined };
          }
          return { done: false, value: messages[next++] as number };
        },
      }),
    };
  };
  return { open, seen };
}

describe("releasingStream", () => {
  it("aborts the call and reads it once more when the reader stops before the end", async () => {
    const { open, seen } = fakeCall([1, 2, 3]);
    for await (const message of releasingStream(open, undefined)) {
      expect(message).toBe(1);
      break;
    }
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.readsAfterAbort).toBe(1);
  });

  it("leaves a stream read to its end as it is", async () => {
    const { open, seen } = fakeCall([1, 2]);
    const read: number[] = [];
    for await (const message of releasingStream(open, undefined)) {
      read.push(message);
    }
    expect(read).toEqual([1, 2]);
    expect(seen.signal?.aborted).toBe(false);
    expect(seen.reads).toBe(3);
  });

  it("aborts the call with the reason of the caller's signal", async () => {
    const caller = new AbortController();
    const { open, seen } = fakeCall([1, 2]);
    const messages = releasingStream(open, caller.signal)[Symbol.asyncIterator]();
    await messages.next();
    caller.abort(new Error("enough"));
    expect(seen.signal?.reason).toEqual(new Error("enough"));
    await expect(messages.next()).rejects.toThrow("enough");
  });

  it("opens the call aborted when the caller's signal already is", () => {
    const caller = new AbortController();
    caller.abort(new Error("before"));
    const { open, seen } = fakeCall([1]);
    releasingStream(open, caller.signal)[Symbol.asyncIterator]();
    expect(seen.signal?.aborted).toBe(true);
  });
});
