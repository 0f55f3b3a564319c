/**
 * The server stream `open` makes, made to let go of its call when the reader stops before the
 * end (it returns after the message it wanted, or breaks out of `for await`): the call is then
 * aborted, and read once more so that the transport releases what it holds for it. `signal`
 * aborts the call too.
 *
 * Why the extra read: it leans on @connectrpc/connect internals (2.2.0,
 * `protocol/run-call.js` `runStreamingCall`). The iterable `createClient` gives for a server
 * stream has no `return()`, and the timer of the call's `timeoutMs` (`createDeadlineSignal`) is
 * cleared only when `next()` sees the end or the abort. Without that read, a stream left early
 * keeps its timer, and a Node process with it, alive until the deadline. At each upgrade, check
 * that an aborted call's `next()` still clears the timer (or that the stream gained a `return()`
 * that does); test/client/timers.test.ts fails if neither.
 */
export function releasingStream<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const call = new AbortController();
      const onAbort = (): void => call.abort(signal?.reason);
      if (signal?.aborted === true) {
        onAbort();
      } else {
        signal?.addEventListener("abort", onAbort, { once: true });
      }
      const messages = open(call.signal)[Symbol.asyncIterator]();
      let ended = false;
      const end = (): void => {
        ended = true;
        signal?.removeEventListener("abort", onAbort);
      };
      return {
        async next() {
          try {
            const result = await messages.next();
            if (result.done === true) {
              end();
            }
            return result;
          } catch (error) {
            end();
            throw error;
          }
        },
        async return() {
          if (!ended) {
            end();
            call.abort();
            // Fails at once with the abort (or ends): either way the call is released.
            await messages.next().catch(() => undefined);
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
