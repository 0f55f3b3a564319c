import type { JobStore } from "../../../server/stores/job-store.js";

/** `inner` with some of its methods replaced: a store that counts, delays or races its calls. */
export function storeWith(inner: JobStore, replaced: Partial<JobStore>): JobStore {
  return {
    create: (job, owner) => inner.create(job, owner),
    get: (id) => inner.get(id),
    lastSeen: (id) => inner.lastSeen(id),
    finish: (id, outcome, seen) => inner.finish(id, outcome, seen),
    update: (id, change, seen) => inner.update(id, change, seen),
    list: (query) => inner.list(query),
    counts: () => inner.counts(),
    subscribe: (id, listener) => inner.subscribe(id, listener),
    close: () => inner.close(),
    ...replaced,
  };
}
