import type { Server } from "node:http";

/** Counts the requests a server is answering, and tells when none is left. */
export interface InFlightRequests {
  readonly count: number;
  /** Resolves once no request is in flight, or after `timeoutMs` at the latest. */
  drained(timeoutMs: number): Promise<void>;
}

/**
 * Tracks the requests of `server` from arrival to the close of their response (sent or
 * abandoned). Closing uses it to let answered long waits reach their callers before the
 * connections, idle by then, are closed.
 */
export function trackInFlightRequests(server: Pick<Server, "on">): InFlightRequests {
  let count = 0;
  let onDrained: (() => void) | undefined;
  server.on("request", (_req, res) => {
    count++;
    res.once("close", () => {
      count--;
      if (count === 0) {
        onDrained?.();
      }
    });
  });
  return {
    get count() {
      return count;
    },
    drained(timeoutMs) {
      if (count === 0) {
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish(): void {
          clearTimeout(timer);
          onDrained = undefined;
          resolve();
        }
        onDrained = finish;
      });
    },
  };
}
