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
    expect(first).toHaveBeenCalledWith("closing");
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

  it('releases the oldest wait with reason "evicted" when a new one is held at the global cap', () => {
    const onEvict = vi.fn();
    const waits = new HeldWaits({ maxTotal: 2, onEvict });
    const [first, second, third] = [vi.fn(), vi.fn(), vi.fn()];
    waits.hold("a", first);
    waits.hold("b", second);
    expect(first).not.toHaveBeenCalled();

    waits.hold("c", third);

    expect(first).toHaveBeenCalledExactlyOnceWith("evicted");
    expect(second).not.toHaveBeenCalled();
    expect(third).not.toHaveBeenCalled();
    expect(waits.size).toBe(2);
    expect(waits.evicted).toBe(1);
    expect(onEvict).toHaveBeenCalledExactlyOnceWith({ held: 2, total: 1 });
  });

  it("never holds more than the global cap, evicting in the order the waits were held", () => {
    const waits = new HeldWaits({ maxTotal: 3 });
    const released: number[] = [];
    const unholds = Array.from({ length: 10 }, (_, i) => {
      const unhold = waits.hold(`caller-${i % 2}`, () => released.push(i));
      expect(waits.size).toBeLessThanOrEqual(3);
      return unhold;
    });
    expect(released).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(waits.size).toBe(3);

    // An evicted wait's own unhold changes nothing; a wait that ends by itself frees its place.
    unholds[0]!();
    expect(waits.size).toBe(3);
    unholds[9]!();
    expect(waits.size).toBe(2);
    waits.hold("caller-0", () => released.push(10));
    expect(released).toHaveLength(7);
  });

  it("frees an evicted wait's place in its caller's count", () => {
    const waits = new HeldWaits({ maxPerCaller: 1, maxTotal: 1 });
    waits.hold("a", vi.fn());
    expect(waits.isFull("a")).toBe(true);
    waits.hold("b", vi.fn());
    expect(waits.isFull("a")).toBe(false);
    expect(waits.isFull("b")).toBe(true);
  });

  it("refuses a global cap below one", () => {
    expect(() => new HeldWaits({ maxTotal: 0 })).toThrow(RangeError);
  });
});
