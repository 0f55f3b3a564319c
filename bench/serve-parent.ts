// The child side of child-process.ts: answers the runner's commands over IPC.

type Handler = (value: never) => unknown;

interface Incoming {
  kind: "request" | "answer";
  id: number;
  type?: string;
  value?: unknown;
  error?: string;
}

const asks = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextAsk = 0;

/**
 * Serves `handlers` (by command type) to the parent and tells it `ready`. The process exits when
 * the parent goes away, so no bench child outlives its run.
 */
export function serveParent(handlers: Record<string, Handler>, ready: Record<string, unknown>): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new Error("run this file from bench/run.ts (it needs an IPC channel)");
  }
  process.on("disconnect", () => process.exit(0));
  process.on("message", (raw) => {
    const message = raw as Incoming;
    if (message.kind === "answer") {
      const ask = asks.get(message.id);
      asks.delete(message.id);
      if (message.error === undefined) {
        ask?.resolve(message.value);
      } else {
        ask?.reject(new Error(message.error));
      }
      return;
    }
    const handler = handlers[message.type ?? ""];
    Promise.resolve()
      .then(() =>
        handler === undefined ? Promise.reject(new Error(`no command ${message.type}`)) : handler(message.value as never),
      )
      .then(
        (value) => send({ kind: "reply", id: message.id, value }),
        (error: unknown) => send({ kind: "error", id: message.id, value: error instanceof Error ? error.stack : String(error) }),
      );
  });
  send({ kind: "ready", value: ready });
}

/** Asks the parent something (its onAsk answers), such as how many waits the server holds. */
export function askParent<T>(value: unknown): Promise<T> {
  const id = nextAsk++;
  return new Promise<T>((resolve, reject) => {
    asks.set(id, { resolve: (answer) => resolve(answer as T), reject });
    process.send?.({ kind: "ask", id, value });
  });
}
