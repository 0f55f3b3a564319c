import { createRequire } from "node:module";
import type * as SortedBtree from "sorted-btree";

// sorted-btree is CommonJS with its class on `exports.default`. Node's ESM loader (tsx, npm start)
// hands `import BTree from "sorted-btree"` the whole exports object while Vite (vitest) unwraps it
// to the class, so require it: the one way both agree on. Check at each upgrade whether the
// package ships ESM, and import it then.
const { default: BTree } = createRequire(import.meta.url)("sorted-btree") as (typeof SortedBtree)["default"];

/** Up to a page of an index's values, newest first. */
export interface IndexPage<V> {
  values: V[];
  /** The position to continue after, or undefined when nothing older is left. */
  next?: number;
  /** Entries read to make the page: at most one more than asked. */
  reads: number;
}

/**
 * Values by position (creation order), read newest first a page at a time. A B+ tree: entries
 * are set and deleted anywhere (jobs end in another order than they were made) in O(log n), and
 * a page costs O(log n + page) however much else the index holds.
 */
export class PositionIndex<V> {
  private readonly tree = new BTree<number, V>();

  get size(): number {
    return this.tree.size;
  }

  /** Adds or replaces the value at `position`. */
  set(position: number, value: V): void {
    this.tree.set(position, value);
  }

  delete(position: number): void {
    this.tree.delete(position);
  }

  /** Up to `limit` values older than position `after` (newest of all when undefined), newest first. */
  page(limit: number, after?: number): IndexPage<V> {
    const values: V[] = [];
    let reads = 0;
    let last: number | undefined;
    if (limit < 1) {
      return { values, reads };
    }
    // Reads one more than asked, to know whether there is a next page.
    for (const [position, value] of this.tree.entriesReversed(after, [], after !== undefined)) {
      reads++;
      if (values.length === limit) {
        return { values, next: last, reads };
      }
      values.push(value);
      last = position;
    }
    return { values, reads };
  }
}
