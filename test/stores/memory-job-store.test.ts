import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../../server/clock.js";
import { resolveServiceSettings } from "../../server/server-options.js";
import { createMemoryBackend } from "../../server/stores/memory-backend.js";
import { createMemoryJobStore, type MemoryJobStore, type MemoryJobStoreOptions } from "../../server/stores/memory-job-store.js";
import { seededRandom } from "../support/seeded-random.js";
import { describeJobStoreContract, draftJob } from "../support/stores/job-store-contract.js";

describeJobStoreContract("memory", () => Promise.resolve(createMemoryJobStore()));

/** A clock that moves only when told. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.parse("2030-01-01T00:00:00Z");
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const owner = "owner";
const done = (clock: Clock) => ({ state: JobState.COMPLETED, at: clock.now() }) as const;

describe("memory job store retention", () => {
  const stores: MemoryJobStore[] = [];
  const makeStore = (options: MemoryJobStoreOptions) => {
    const store = createMemoryJobStore(options);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    vi.useRealTimers();
  });

  it("removes an ended job once its retention has passed since its end, from reads, listings and counts", async () => {
    const clock = manualClock();
    const store = makeStore({ retentionMs: 1_000, clock });
    const [ended, pending] = [draftJob(), draftJob()];
    await store.create(ended, owner);
    await store.create(pending, owner);
    clock.advance(5_000);
    await store.finish(ended.id, done(clock));
    clock.advance(999);
    expect((await store.get(ended.id))?.job.state).toBe(JobState.COMPLETED);
    clock.advance(1);
    expect(await store.get(ended.id)).toBeUndefined();
    expect(await store.finish(ended.id, done(clock))).toBeUndefined();
    expect((await store.list({ owner, limit: 10 })).jobs.map((job) => job.id)).toEqual([pending.id]);
    expect(await store.list({ owner, state: JobState.COMPLETED, limit: 10 })).toEqual({ jobs: [] });
    // Unlike Redis's, the memory store's counts leave with the job.
    expect(await store.counts()).toEqual({ PENDING: 1, COMPLETED: 0 });
    expect(store.held().jobs).toBe(1);
  });

  it("never removes a pending job, and keeps ended ones for ever with retention 0", async () => {
    const clock = manualClock();
    const keeping = makeStore({ retentionMs: 0, clock });
    const expiring = makeStore({ retentionMs: 1_000, clock });
    const [pending, ended] = [draftJob(), draftJob()];
    for (const store of [keeping, expiring]) {
      await store.create(pending, owner);
      await store.create(ended, owner);
      await store.finish(ended.id, done(clock));
    }
    clock.advance(365 * 86_400_000);
    expect((await expiring.get(pending.id))?.job.state).toBe(JobState.PENDING);
    expect(await expiring.get(ended.id)).toBeUndefined();
    expect((await keeping.get(pending.id))?.job.state).toBe(JobState.PENDING);
    expect((await keeping.get(ended.id))?.job.state).toBe(JobState.COMPLETED);
  });

  it("forgets a request id once its TTL has passed since the create, so the same id then makes a new job", async () => {
    const clock = manualClock();
    const store = makeStore({ retentionMs: 0, idempotencyTtlMs: 1_000, clock });
    const requestId = randomUUID();
    const first = draftJob({ requestId });
    await store.create(first, owner);
    clock.advance(999);
    expect(await store.create(draftJob({ requestId }), owner)).toMatchObject({ created: false, job: { id: first.id } });
    clock.advance(1);
    const second = draftJob({ requestId });
    expect(await store.create(second, owner)).toMatchObject({ created: true, job: { id: second.id } });
    // The first job itself stays: only the request id was forgotten.
    expect((await store.list({ owner, limit: 10 })).jobs.map((job) => job.id)).toEqual([second.id, first.id]);
    expect(store.held()).toEqual({ jobs: 2, requestIds: 1 });
  });

  it("makes a new job for a request id whose job has gone, and remembers it for a TTL of its own", async () => {
    const clock = manualClock();
    const store = makeStore({ retentionMs: 100, idempotencyTtlMs: 1_000, clock });
    const requestId = randomUUID();
    const first = draftJob({ requestId });
    await store.create(first, owner);
    await store.finish(first.id, done(clock));
    clock.advance(100);
    const second = draftJob({ requestId });
    expect((await store.create(second, owner)).created).toBe(true);
    // The first create's TTL ends here; the second's, 100 ms later.
    clock.advance(900);
    expect(await store.create(draftJob({ requestId }), owner)).toMatchObject({ created: false, job: { id: second.id } });
    clock.advance(100);
    expect((await store.create(draftJob({ requestId }), owner)).created).toBe(true);
  });

  it("gives the memory back by its one timer when no calls come, and close() leaves no timer", async () => {
    vi.useFakeTimers();
    const store = makeStore({ retentionMs: 10_000, idempotencyTtlMs: 20_000 });
    expect(vi.getTimerCount()).toBe(0);
    for (let i = 0; i < 100; i++) {
      const job = draftJob({ requestId: randomUUID() });
      await store.create(job, owner);
      await store.finish(job.id, { state: JobState.COMPLETED, at: Date.now() });
      vi.advanceTimersByTime(10);
    }
    expect(vi.getTimerCount()).toBe(1);
    expect(store.held()).toEqual({ jobs: 100, requestIds: 100 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.held().jobs).toBeLessThan(100);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(store.held()).toEqual({ jobs: 0, requestIds: 0 });
    // Nothing left to expire: no timer either.
    expect(vi.getTimerCount()).toBe(0);

    await store.create(draftJob(), owner);
    expect(vi.getTimerCount()).toBe(0);
    await store.create(draftJob({ requestId: randomUUID() }), owner);
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    await store.create(draftJob({ requestId: randomUUID() }), owner);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("applies the service's jobRetentionMs and idempotencyTtlMs when the backend makes the store", async () => {
    const clock = manualClock();
    const settings = resolveServiceSettings({ jobRetentionMs: 1_000, idempotencyTtlMs: 2_000 });
    const backend = createMemoryBackend({ settings, clock, onError: (error) => expect.fail(String(error)) });
    try {
      const requestId = randomUUID();
      const job = draftJob({ requestId });
      await backend.store.create(job, owner);
      await backend.store.finish(job.id, done(clock));
      clock.advance(1_000);
      expect(await backend.store.get(job.id)).toBeUndefined();
      // The job has gone, so its request id makes a new one (as in Redis).
      const again = draftJob({ requestId });
      expect((await backend.store.create(again, owner)).created).toBe(true);
      clock.advance(1_999);
      expect((await backend.store.create(draftJob({ requestId }), owner)).created).toBe(false);
    } finally {
      await backend.close();
    }
  });

  it("holds at most maxEndedJobs ended jobs and request ids, the oldest going first, pending jobs all kept", async () => {
    const clock = manualClock();
    const store = makeStore({ retentionMs: 0, maxEndedJobs: 3, clock });
    const jobs = Array.from({ length: 5 }, () => draftJob({ requestId: randomUUID() }));
    const pending = draftJob();
    for (const job of jobs) {
      await store.create(job, owner);
    }
    await store.create(pending, owner);
    // Five request ids made: the two oldest are forgotten, their jobs (still pending) kept.
    expect(store.held()).toEqual({ jobs: 6, requestIds: 3 });
    for (const job of jobs) {
      await store.finish(job.id, done(clock));
    }
    expect(store.held().jobs).toBe(4);
    const left = (await store.list({ owner, limit: 10 })).jobs.map((job) => job.id);
    expect(left).toEqual([pending.id, jobs[4]?.id, jobs[3]?.id, jobs[2]?.id]);
    expect(await store.get(jobs[0]?.id as string)).toBeUndefined();
  });

  it("refuses a negative or non-finite retention or TTL", () => {
    expect(() => createMemoryJobStore({ retentionMs: -1 })).toThrow(RangeError);
    expect(() => createMemoryJobStore({ idempotencyTtlMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("memory job store listing", () => {
  let store: MemoryJobStore;
  afterEach(async () => {
    await store.close();
  });

  it("reads about a page of index entries per page over 50k jobs, and none for a filter that matches nothing", async () => {
    store = createMemoryJobStore({ retentionMs: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const job = draftJob();
      await store.create(job, i % 5 === 0 ? "other" : owner);
      if (i % 5 !== 0) {
        ids.push(job.id);
      }
      if (i % 2 === 0) {
        await store.finish(job.id, { state: JobState.COMPLETED, at: Date.now() });
      }
    }
    const reads = async (query: Parameters<MemoryJobStore["list"]>[0]) => {
      const before = store.listReads;
      const page = await store.list(query);
      return { page, reads: store.listReads - before };
    };

    expect(await reads({ owner, state: JobState.ERROR, limit: 100 })).toEqual({ page: { jobs: [] }, reads: 0 });
    expect(await reads({ owner: "nobody", limit: 100 })).toEqual({ page: { jobs: [] }, reads: 0 });

    const first = await reads({ owner, limit: 100 });
    expect(first.page.jobs.map((job) => job.id)).toEqual(ids.slice(-100).reverse());
    expect(first.reads).toBe(101);
    const deep = await reads({ owner, state: JobState.PENDING, limit: 50, after: 25_000 });
    expect(deep.page.jobs).toHaveLength(50);
    expect(deep.page.jobs.every((job) => job.state === JobState.PENDING)).toBe(true);
    expect(deep.reads).toBe(51);
    const last = await reads({ owner, state: JobState.COMPLETED, limit: 100, after: 150 });
    expect(last.page.next).toBeUndefined();
    expect(last.reads).toBe(last.page.jobs.length);
  });

  it("pages with and without a state filter across random state changes: every job once, newest first", async () => {
    store = createMemoryJobStore({ retentionMs: 0 });
    const random = seededRandom(9);
    const states = [JobState.COMPLETED, JobState.ERROR, JobState.CANCELLED] as const;
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const job = draftJob();
      await store.create(job, owner);
      ids.push(job.id);
      if (random() < 0.3) {
        await store.finish(job.id, { state: states[i % 3]!, at: Date.now() });
      }
    }
    const endSome = async () => {
      for (let n = 0; n < 5; n++) {
        const id = ids[Math.floor(random() * ids.length)]!;
        await store.finish(id, { state: states[n % 3]!, at: Date.now() });
      }
    };
    const positionOf = new Map(ids.map((id, i) => [id, i]));

    const stateOf = async (id: string) => (await store.get(id))?.job.state;
    for (const state of [undefined, JobState.PENDING, JobState.COMPLETED]) {
      // Listed for sure: with no filter, every job; else those in the state all through the
      // listing (an ended job never changes, a job still pending at the end always was).
      const endedBefore = new Set<string>();
      for (const id of ids) {
        if (state !== JobState.PENDING && (state === undefined || (await stateOf(id)) === state)) {
          endedBefore.add(id);
        }
      }
      const seen: string[] = [];
      let after: number | undefined;
      do {
        const page = await store.list({ owner, state, limit: 7, after });
        seen.push(...page.jobs.map((job) => job.id));
        expect(page.jobs.every((job) => state === undefined || job.state === state)).toBe(true);
        after = page.next;
        await endSome();
      } while (after !== undefined);
      const stayed = new Set(endedBefore);
      for (const id of ids) {
        if (state === JobState.PENDING && (await stateOf(id)) === JobState.PENDING) {
          stayed.add(id);
        }
      }
      expect(stayed.size).toBeGreaterThan(50);
      const positions = seen.map((id) => positionOf.get(id)!);
      expect(positions).toEqual([...positions].sort((a, b) => b - a));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => stayed.has(id))).toEqual(ids.filter((id) => stayed.has(id)).reverse());
      if (state === undefined) {
        expect(seen).toEqual([...ids].reverse());
      }
    }
  });
});
