import type { HeldWaits } from "../../server/waits/held-waits.js";
import { metricValue } from "./metric-value.js";
import { type WaitUntilOptions, waitUntil } from "./wait-until.js";

/**
 * Where to read how many long waits and watches a server holds: the registry it was given
 * (ServerOptions.heldWaits), or its URL, whose GET /metrics has the `held_waits` gauge (for a
 * server in another process, or one that keeps its own registry with its eviction log).
 */
export type HeldSource = HeldWaits | string;

/** How many waits and watches `source` holds now. */
export async function heldCount(source: HeldSource): Promise<number> {
  return typeof source === "string" ? metricValue(source, "held_waits") : source.size;
}

/**
 * Resolves once `source` holds exactly `count` waits and watches: the fact a test waits for
 * before it acts on a held wait ("the wait is held"), or after it ("the wait is released").
 */
export async function untilHeld(source: HeldSource, count: number, options: Omit<WaitUntilOptions, "what"> = {}): Promise<void> {
  let last: number | undefined;
  await waitUntil(
    async () => {
      last = await heldCount(source);
      return last === count;
    },
    {
      intervalMs: typeof source === "string" ? 20 : 5,
      ...options,
      what: () => `${count} held waits (last seen: ${String(last)})`,
    },
  );
}
