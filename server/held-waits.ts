/** Ends one held wait early: it answers with the job as last seen. */
export type Release = () => void;

/**
 * The long waits and watches a server holds, oldest first. Closing the server releases them all
 * at once (each answers with its job as last seen); a wait held after that is released at once.
 *
 * One registry instead of one listener per wait on a shared AbortSignal: no listener lists that
 * grow with the number of waits, and the order needed to shed the oldest wait first.
 */
export class HeldWaits {
  private readonly waits = new Set<Release>();
  private closed = false;

  /** How many waits are held now. */
  get size(): number {
    return this.waits.size;
  }

  /** True once releaseAll has been called: new waits should not be held. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Registers a wait; `release` is called if the registry releases it. Returns the function that
   * unregisters it, to be called when the wait ends by itself. Once closed, nothing is registered:
   * check isClosed first.
   */
  hold(release: Release): () => void {
    if (this.closed) {
      return noop;
    }
    this.waits.add(release);
    return () => {
      this.waits.delete(release);
    };
  }

  /** Releases every held wait, now and from now on. */
  releaseAll(): void {
    this.closed = true;
    const waits = [...this.waits];
    this.waits.clear();
    for (const release of waits) {
      release();
    }
  }
}

function noop(): void {}
