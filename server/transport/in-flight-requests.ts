import type { IncomingMessage, ServerResponse } from "node:http";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Counts the requests a server is answering, and tells when none is left. */
export interface InFlightRequests {
  readonly count: number;
  /** `handler`, counting each request from arrival to the close of its response (sent or abandoned). */
  wrap(handler: Handler): Handler;
  /** Counts one request served some other way (an HTTP/2 stream), until it closes. */
  track(exchange: { once(event: "close", listener: () => void): unknown }): void;
  /** Resolves once no request is in flight, or after `timeoutMs` at the latest. */
  drained(timeoutMs: number): Promise<void>;
}

/**
 * Tracks the requests a server answers, over HTTP/1.1 and HTTP/2 alike. Closing uses it to let
 * answered long waits reach their callers before the connections, idle by then, are closed.
 */
export function createInFlightRequests(): InFlightRequests {
  let count = 0;
  let onDrained: (() => void) | undefined;
  const onClose = (): void => {
    count--;
    if (count === 0) {
      onDrained?.();
    }
  };
  return {
    get count() {
      return count;
    },
    wrap(handler) {
      return (req, res) => {
        count++;
        res.once("close", onClose);
        handler(req, res);
      };
    },
    track(exchange) {
      count++;
      exchange.once("close", onClose);
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
