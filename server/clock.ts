/** The time source of the server, replaceable in tests. `Date` is one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
