/**
 * Items in the order they fall due, for expiry after a constant time to live: each push is due
 * no earlier than the one before it (a clock that steps back is clamped to the last due time),
 * so the next to expire is always at the head and expiring costs O(1) amortised per item, never
 * a scan.
 */
export class ExpiryQueue<T extends object> {
  private items: (T | undefined)[] = [];
  private dues: number[] = [];
  private head = 0;

  /** Items not yet shifted. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** When the head falls due, in ms since the epoch; Infinity when the queue is empty. */
  get nextDue(): number {
    return this.head < this.dues.length ? (this.dues[this.head] as number) : Number.POSITIVE_INFINITY;
  }

  /** Adds `item`, due at `dueAt` or at the last item's due time if that is later. */
  push(item: T, dueAt: number): void {
    const last = this.size > 0 ? (this.dues[this.dues.length - 1] as number) : dueAt;
    this.items.push(item);
    this.dues.push(Math.max(dueAt, last));
  }

  /** Removes and returns the head when it is due at `now`; undefined when nothing is due. */
  shiftDue(now: number): T | undefined {
    return this.nextDue > now ? undefined : this.shift();
  }

  /** Removes and returns the head, due or not; undefined when the queue is empty. */
  shift(): T | undefined {
    if (this.size === 0) {
      return undefined;
    }
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.dues = [];
      this.head = 0;
    } else if (this.head >= 1_024 && this.head * 2 >= this.items.length) {
      // Copying the live half once the dead half is as long keeps each shift O(1) amortised.
      this.items = this.items.slice(this.head);
      this.dues = this.dues.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
