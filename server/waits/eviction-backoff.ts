/** The hint of a wait evicted when evictions are rare, in ms. */
export const EVICTED_POLL_HINT_MS = 1_000;
/** Evictions are counted in windows this long: each window with some raises the hint. */
const WINDOW_MS = 1_000;

export interface EvictionBackoffOptions {
  /** The longest hint, in ms (MAX_WAIT: by then a held wait would have ended anyway). */
  maxMs: number;
  /** @default EVICTED_POLL_HINT_MS */
  baseMs?: number;
  /** @default performance.now */
  now?: () => number;
  /** @default Math.random */
  random?: () => number;
}

/**
 * How long a wait evicted under MAX_HELD_WAITS is told to stay away (its next_poll_after, or a
 * watch's RetryInfo). A fixed hint brings every evicted caller back at once, only to evict
 * others: here the hint doubles for each one-second window with evictions right after another,
 * up to `maxMs`, and comes back down one step for each window without; and each hint is spread over half to
 * one and a half times its level, so callers evicted together return apart.
 */
export class EvictionBackoff {
  private readonly maxMs: number;
  private readonly baseMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private level = 0;
  private lastWindow = -Infinity;

  constructor(options: EvictionBackoffOptions) {
    this.baseMs = options.baseMs ?? EVICTED_POLL_HINT_MS;
    this.maxMs = Math.max(this.baseMs, options.maxMs);
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
  }

  /** An eviction happened now. */
  record(): void {
    const window = Math.floor(this.now() / WINDOW_MS);
    if (window === this.lastWindow) {
      return;
    }
    // A window right after one with evictions raises the level; after quiet ones it has decayed.
    const inARow = window === this.lastWindow + 1;
    const level = inARow ? this.level + 1 : Math.max(0, this.decayed(window));
    this.level = Math.min(level, Math.ceil(Math.log2(this.maxMs / this.baseMs)));
    this.lastWindow = window;
  }

  /** The hint's level now, before spreading, in ms. */
  levelMs(): number {
    const level = Math.max(0, this.decayed(Math.floor(this.now() / WINDOW_MS)));
    return Math.min(this.maxMs, this.baseMs * 2 ** level);
  }

  /** The hint for a wait evicted now, in whole ms. */
  hintMs(): number {
    return Math.round(Math.min(this.maxMs, this.levelMs() * (0.5 + this.random())));
  }

  /** The level after the windows without evictions since the last one with some. */
  private decayed(window: number): number {
    const quiet = this.lastWindow === -Infinity ? 0 : Math.max(0, window - this.lastWindow - 1);
    return this.level - quiet;
  }
}
