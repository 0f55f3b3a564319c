import { describe, expect, it } from "vitest";
import { mergeChanges } from "./merge-changes.js";

// mergeChanges over sources of the test's own, which say what became of them.

/** A source that yields `items` one turn apart each, then ends or fails; `log` hears how it ends. */
function source(name: string, items: number[], log: string[], options: { failWith?: Error; holdUntil?: Promise<void> } = {}) {
  return (async function* () {
    try {
      for (const item of items) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield item;
      }
      await options.holdUntil;
      if (options.failWith !== undefined) {
        throw options.failWith;
      }
      log.push(`${name} ended`);
    } finally {
      log.push(`${name} let go`);
    }
  })();
}

describe("mergeChanges", () => {
  it("yields the items of every source as each comes, and ends once all have ended", async () => {
    const log: string[] = [];
    let stops = 0;
    const merged: number[] = [];
    for await (const item of mergeChanges([source("a", [1, 2, 3], log), source("b", [10, 20], log)], () => stops++)) {
      merged.push(item);
    }
    expect([...merged].sort((x, y) => x - y)).toEqual([1, 2, 3, 10, 20]);
    expect(merged.filter((item) => item < 10)).toEqual([1, 2, 3]);
    expect(log.sort()).toEqual(["a ended", "a let go", "b ended", "b let go"]);
    expect(stops).toBe(0);
  });

  it("throws a source's failure after stopping the others and waiting for them to let go", async () => {
    const log: string[] = [];
    let release = (): void => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const failure = new Error("broken");
    const merging = (async () => {
      for await (const _item of mergeChanges(
        [source("bad", [1], log, { failWith: failure }), source("slow", [], log, { holdUntil: held })],
        () => {
          log.push("stopped");
          // What stop() does to a real source: its pending work ends soon.
          release();
        },
      )) {
        // Items are not the point here.
      }
    })();
    await expect(merging).rejects.toBe(failure);
    expect(log).toEqual(["bad let go", "stopped", "slow ended", "slow let go"]);
  });

  it("stops the sources and lets go of every one not ended when the reader leaves early", async () => {
    const log: string[] = [];
    let stops = 0;
    for await (const item of mergeChanges([source("a", [1, 2], log), source("b", [10, 20], log)], () => stops++)) {
      expect(item).toBeGreaterThan(0);
      break;
    }
    expect(stops).toBe(1);
    expect(log.sort()).toEqual(["a let go", "b let go"]);
  });
});
