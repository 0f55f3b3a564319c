export interface WaitUntilOptions {
  /** How long to keep asking before failing: generous, as a loaded machine needs. @default 10_000 */
  timeoutMs?: number;
  /** How long to wait between two asks. @default 5 */
  intervalMs?: number;
  /** What is awaited, for the failure message ("the server to hold 2 waits, holding 1"). @default "the condition" */
  what?: string | (() => string);
}

/**
 * Resolves once `predicate` holds, asking it every few ms; rejects with `what` in the message
 * after `timeoutMs`. For waiting on a fact (a wait is held, a line is logged), never on a sleep.
 *
 * @example
 * await waitUntil(() => heldWaits.size === 2, { what: () => `2 held waits, ${heldWaits.size} now` });
 */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, options: WaitUntilOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await predicate()) {
      return;
    }
    if (performance.now() >= deadline) {
      const what = typeof options.what === "function" ? options.what() : (options.what ?? "the condition");
      throw new Error(`waited ${timeoutMs} ms for ${what}, in vain`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
