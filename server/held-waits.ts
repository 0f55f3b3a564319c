/** Ends one held wait early: it answers with the job as last seen. */
export type Release = () => void;

export interface HeldWaitsOptions {
  /** The most waits one caller may hold at once. @default Infinity */
  maxPerCaller?: number;
}

/**
 * The long waits and watches a server holds, oldest first, counted per caller. Closing the server
 * releases them all at once (each answers with its job as last seen).
 *
 * One registry instead of one listener per wait on a shared AbortSignal: no listener lists that
 * grow with the number of waits, and the order needed to shed the oldest wait first.
 */
export class HeldWaits {
  private readonly waits = new Set<Release>();
  private readonly perCaller = new Map<string, number>();
  private readonly maxPerCaller: number;
  private closed = false;

  constructor(options: HeldWaitsOptions = {}) {
    this.maxPerCaller = options.maxPerCaller ?? Infinity;
  }

  /** How many waits are held now. */
  get size(): number {
    return this.waits.size;
  }

  /** True once releaseAll has been called: new waits should not be held. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** True when `caller` holds as many waits as it may. */
  isFull(caller: string): boolean {
    return (this.perCaller.get(caller) ?? 0) >= this.maxPerCaller;
  }

  /**
   * Registers a wait of `caller`; `release` is called if the registry releases it. Returns the
   * function that unregisters it, to be called when the wait ends by itself. Once closed, nothing
   * is registered: check isClosed (and isFull) first.
   */
  hold(caller: string, release: Release): () => void {
    if (this.closed) {
      return noop;
    }
    this.waits.add(release);
    this.perCaller.set(caller, (this.perCaller.get(caller) ?? 0) + 1);
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.waits.delete(release);
        this.forget(caller);
      }
    };
  }

  /** Releases every held wait, now and from now on. */
  releaseAll(): void {
    this.closed = true;
    const waits = [...this.waits];
    this.waits.clear();
    this.perCaller.clear();
    for (const release of waits) {
      release();
    }
  }

  private forget(caller: string): void {
    const count = (this.perCaller.get(caller) ?? 1) - 1;
    if (count <= 0) {
      this.perCaller.delete(caller);
    } else {
      this.perCaller.set(caller, count);
    }
  }
}

function noop(): void {}
