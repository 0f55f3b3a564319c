/** What a source's `next()` came to. */
type Settled<T> =
  | { source: AsyncIterator<T>; failed: false; result: IteratorResult<T> }
  | { source: AsyncIterator<T>; failed: true; error: unknown };

/**
 * Yields the items of every source as each comes, and ends once all have ended. One item of each
 * source is asked for at a time, so none runs more than one item ahead of the reader.
 *
 * When the reader leaves early, or a source fails (its error is then thrown), `stop` is called:
 * it must make the sources' pending work end soon (the waits behind them abort their calls and
 * sleeps). The items still on their way are then awaited and dropped, and every source that has
 * not ended is returned, so that each lets go of what it holds before this generator ends.
 */
export async function* mergeChanges<T>(
  sources: readonly AsyncIterator<T>[],
  stop: () => void,
): AsyncGenerator<T, void, undefined> {
  const settled: Settled<T>[] = [];
  const inFlight = new Map<AsyncIterator<T>, Promise<void>>();
  const ended = new Set<AsyncIterator<T>>();
  let wake: (() => void) | undefined;
  const pull = (source: AsyncIterator<T>): void => {
    const done = (item: Settled<T>): void => {
      inFlight.delete(source);
      settled.push(item);
      wake?.();
    };
    inFlight.set(
      source,
      source.next().then(
        (result) => done({ source, failed: false, result }),
        (error: unknown) => done({ source, failed: true, error }),
      ),
    );
  };
  /** Takes the next settled item, marking its source ended when it is its last. */
  const take = (): Settled<T> | undefined => {
    const item = settled.shift();
    if (item !== undefined && (item.failed || item.result.done === true)) {
      ended.add(item.source);
    }
    return item;
  };

  let finished = false;
  for (const source of sources) {
    pull(source);
  }
  try {
    while (ended.size < sources.length) {
      const item = take();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      } else if (item.failed) {
        throw item.error;
      } else if (item.result.done !== true) {
        yield item.result.value;
        pull(item.source);
      }
    }
    finished = true;
  } finally {
    if (!finished) {
      stop();
      await Promise.all(inFlight.values());
      while (take() !== undefined) {
        // Dropped: the reader has gone, or another source failed.
      }
      const open = sources.filter((source) => !ended.has(source));
      await Promise.all(open.map((source) => source.return?.().catch(() => undefined)));
    }
  }
}
