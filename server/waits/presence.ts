/**
 * Whether the caller of a call is still there: what a held wait watches so that it ends when its
 * caller leaves. Lighter than an AbortSignal for calls that never need one.
 */
export interface Presence {
  /** True once the caller has left (disconnected, cancelled, or past its deadline). */
  readonly left: boolean;
  /** Calls `listener` once, when the caller leaves; returns the function that takes it back. */
  onLeave(listener: () => void): () => void;
}

/** The presence an AbortSignal tells: it leaves when the signal aborts. */
export function presenceOfSignal(signal: AbortSignal): Presence {
  return {
    get left() {
      return signal.aborted;
    },
    onLeave(listener) {
      signal.addEventListener("abort", listener, { once: true });
      return () => signal.removeEventListener("abort", listener);
    },
  };
}
