/** Why the registry ended a held wait: the server is closing, or the wait was shed for a newer one. */
export type ReleaseReason = "closing" | "evicted";

/** Ends one held wait early: it answers with the job as last seen, and says why it ended. */
export type Release = (reason: ReleaseReason) => void;

/** What onEvict is told after each eviction. */
export interface Eviction {
  /** The waits held now, the new one included: the global cap. */
  held: number;
  /** Evictions so far, this one included. */
  total: number;
}

export interface HeldWaitsOptions {
  /** The most waits one caller may hold at once. @default Infinity */
  maxPerCaller?: number;
  /** The most waits held at once by all callers; holding one more releases the oldest first. @default Infinity */
  maxTotal?: number;
  /** Called after each wait released to make room for a newer one, once the newer one is held. @default none */
  onEvict?: (eviction: Eviction) => void;
}

interface Entry {
  caller: string;
  release: Release;
}

/**
 * The long waits and watches a server holds, oldest first, counted per caller. Past the global
 * cap the oldest wait is released ("evicted": it answers early, it is never dropped); closing the
 * server releases them all at once ("closing"). Either way each answers with its job as last seen.
 *
 * One registry instead of one listener per wait on a shared AbortSignal: no listener lists that
 * grow with the number of waits, and the order needed to shed the oldest wait first.
 */
export class HeldWaits {
  // A Set keeps insertion order, so its first entry is the oldest wait.
  private readonly waits = new Set<Entry>();
  private readonly perCaller = new Map<string, number>();
  private readonly maxPerCaller: number;
  private readonly maxTotal: number;
  private readonly onEvict: ((eviction: Eviction) => void) | undefined;
  private evictions = 0;
  private closed = false;

  constructor(options: HeldWaitsOptions = {}) {
    this.maxPerCaller = options.maxPerCaller ?? Infinity;
    this.maxTotal = options.maxTotal ?? Infinity;
    this.onEvict = options.onEvict;
    if (!(this.maxTotal >= 1)) {
      throw new RangeError(`maxTotal must be at least 1, got ${this.maxTotal}`);
    }
  }

  /** How many waits are held now. */
  get size(): number {
    return this.waits.size;
  }

  /** How many waits have been released to make room for newer ones. */
  get evicted(): number {
    return this.evictions;
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
   * Registers a wait of `caller`; `release` is called if the registry releases it. At the global
   * cap, the oldest wait is released first. Returns the function that unregisters the wait, to be
   * called when it ends by itself. Once closed, nothing is registered: check isClosed (and isFull)
   * first.
   */
  hold(caller: string, release: Release): () => void {
    if (this.closed) {
      return noop;
    }
    // The cap is fixed and never passed, so one eviction always makes room.
    const evicting = this.waits.size >= this.maxTotal;
    if (evicting) {
      this.evictOldest();
    }
    const entry: Entry = { caller, release };
    this.waits.add(entry);
    this.perCaller.set(caller, (this.perCaller.get(caller) ?? 0) + 1);
    if (evicting) {
      this.onEvict?.({ held: this.waits.size, total: this.evictions });
    }
    return () => {
      if (this.waits.delete(entry)) {
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
    for (const { release } of waits) {
      release("closing");
    }
  }

  private evictOldest(): void {
    const oldest = this.waits.values().next().value as Entry;
    this.waits.delete(oldest);
    this.forget(oldest.caller);
    this.evictions++;
    oldest.release("evicted");
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
