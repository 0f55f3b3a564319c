import { describe, expect, it, vi } from "vitest";
import { HeldWaits } from "./held-waits.js";

describe("HeldWaits", () => {
  it("releases every held wait once on releaseAll, and none that ended by itself", () => {
    const waits = new HeldWaits();
    const first = vi.fn();
    const ended = vi.fn();
    const last = vi.fn();
    waits.hold(first);
    const unhold = waits.hold(ended);
    waits.hold(last);
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
    waits.hold(release)();
    expect(waits.size).toBe(0);
    expect(release).not.toHaveBeenCalled();
  });
});
