import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface FaultInjectorOptions {
  /** Share of calls to fail, from 0 (none) to 1 (all). */
  rate: number;
  /** Random numbers in [0, 1); replaceable in tests. */
  random?: () => number;
}

/**
 * Fails a share of calls on purpose before their handler runs (so nothing changes), half with
 * UNAVAILABLE and half with INTERNAL: the faults a client must survive, on demand.
 */
export function createFaultInjector({ rate, random = Math.random }: FaultInjectorOptions): Interceptor {
  return (next) => (req) => {
    if (rate > 0 && random() < rate) {
      const code = random() < 0.5 ? Code.Unavailable : Code.Internal;
      throw new ConnectError(`injected fault (FAULT_RATE=${rate})`, code);
    }
    return next(req);
  };
}
