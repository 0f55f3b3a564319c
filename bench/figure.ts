import type { Summary } from "./stats.js";

/** A latency spread, in ms. */
export type Spread = Pick<Summary, "p50" | "p99" | "max">;

/** One row of the results: our figure, and the baseline's from the same run when there is one. */
export interface Figure {
  /** The part of the suite, such as "unary" or "held waits". */
  section: string;
  /** What was measured, such as "Connect JSON, HTTP/1.1: throughput". */
  name: string;
  /** Such as "req/s", "µs/call", "ms", "KiB/wait", "req/job". */
  unit: string;
  ours: number | Spread;
  /** The baseline run in the same rounds; the ratio printed is ours / peer. */
  peer?: { name: string; value: number };
  /** True for throughput: a ratio above 1 is then better for us; else lower is better. */
  higherIsBetter?: boolean;
}

/** ours / peer, when both are single numbers. */
export function ratioOf(figure: Figure): number | undefined {
  return figure.peer === undefined || typeof figure.ours !== "number" ? undefined : figure.ours / figure.peer.value;
}

/** A Spread from a Summary (drops n and mean). */
export function spreadOf(summary: Summary): Spread {
  return { p50: summary.p50, p99: summary.p99, max: summary.max };
}
