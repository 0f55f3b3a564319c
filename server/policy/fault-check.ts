import { Code, ConnectError } from "@connectrpc/connect";

export interface FaultCheckOptions {
  /** Share of calls to fail, from 0 (none) to 1 (all). */
  rate: number;
  /** Random numbers in [0, 1); replaceable in tests. */
  random?: () => number;
}

/**
 * Throws, for a share of calls, UNAVAILABLE or INTERNAL (half each): the faults a client must
 * survive, on demand. Called before a handler runs, so nothing changes.
 */
export function createFaultCheck({ rate, random = Math.random }: FaultCheckOptions): () => void {
  return () => {
    if (rate > 0 && random() < rate) {
      const code = random() < 0.5 ? Code.Unavailable : Code.Internal;
      throw new ConnectError(`injected fault (FAULT_RATE=${rate})`, code);
    }
  };
}
