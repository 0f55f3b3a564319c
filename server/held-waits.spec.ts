import { describe, expect, it, vi } from "vitest";
import { HeldWaits } from "./held-waits.js";

describe("HeldWaits", () => {
  it("releases every held wait once on releaseAll, and none that ended by itself", () => {
    const waits = new HeldWaits();
    const first = vi.fn();
    const ended = vi.fn();
    const last = vi.fn();
    waits.hold("a", first);
    const unhold = waits.hold("a", ended);
    waits.hold("b", last);
    unhold();
    expect(waits.size).toBe(2);

    waits.releaseAll();
    waits.releaseAll();

    expect(first).toHaveBeenCalledTimes(1);
    expect(last).toHaveBeenCalledTimes(1);
    expect(ended).not.toHaveBeenCalled();
    expect(waits.size).toBe(0);
    expect(waits.isClosed).toBe(true);
  });

  it("registers nothing once closed", () => {
    const waits = new HeldWaits();
    waits.releaseAll();
    const release = vi.fn();
    waits.hold("a", release)();
    expect(waits.size).toBe(0);
    expect(release).not.toHaveBeenCalled();
  });

  it("counts waits per caller against its cap, and frees a place when a wait ends", () => {
    const waits = new HeldWaits({ maxPerCaller: 2 });
    const first = waits.hold("a", vi.fn());
    waits.hold("a", vi.fn());
    expect(waits.isFull("a")).toBe(true);
    expect(waits.isFull("b")).toBe(false);
    first();
    first();
    expect(waits.isFull("a")).toBe(false);
    expect(waits.size).toBe(1);
  });
});
