import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Job, JobSchema, JobState } from "../../../gen/jobs/v1/job_pb.js";
import { newJobId } from "../../../server/service/job-id.js";
import { changedJob, type JobStore } from "../../../server/stores/job-store.js";
import { waitUntil } from "../wait-until.js";

/** A new PENDING job as the service would make it. */
export function draftJob(fields: Partial<Omit<Job, "$typeName" | "$unknown">> = {}): Job {
  const now = Date.now();
  return create(JobSchema, {
    id: newJobId(),
    state: JobState.PENDING,
    createTime: timestampFromMs(now),
    updateTime: timestampFromMs(now),
    estimatedCompletionTime: timestampFromMs(now + 60_000),
    processingDuration: durationFromMs(60_000),
    version: 1n,
    ...fields,
  });
}

/**
 * What every JobStore must do, as one suite run against each store. `makeStore` gives a new,
 * empty store (for its own owners at least); the suite closes it.
 */
export function describeJobStoreContract(name: string, makeStore: () => Promise<JobStore>, options: { skip?: boolean } = {}) {
  describe.skipIf(options.skip === true)(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    // Owners unique to each test, so that stores shared between runs (Redis) start empty for them.
    let owner: string;
    let otherOwner: string;
    beforeEach(async () => {
      store = await makeStore();
      owner = `owner-${randomUUID()}`;
      otherOwner = `other-${randomUUID()}`;
    });
    afterEach(async () => {
      await store.close();
    });

    it("stores a job and gives it back with its owner", async () => {
      const job = draftJob({ shouldError: true, requestId: "" });
      const result = await store.create(job, owner);
      expect(result.created).toBe(true);
      const stored = await store.get(job.id);
      expect(stored?.owner).toBe(owner);
      expect(stored?.job).toEqual(job);
      expect(await store.get(newJobId())).toBeUndefined();
    });

    it("gives its last sight of a job it made and changed (lastSeen), and undefined for an unknown id", async () => {
      const job = draftJob();
      await store.create(job, owner);
      expect(await store.lastSeen(job.id)).toMatchObject({ job, owner });
      const ended = await store.finish(job.id, { state: JobState.CANCELLED, at: Date.now() });
      expect((await store.lastSeen(job.id))?.job).toEqual(ended?.job);
      expect(await store.lastSeen(newJobId())).toBeUndefined();
    });

    it("returns the first job, storing nothing, when an owner repeats a request id", async () => {
      const requestId = randomUUID();
      const first = draftJob({ requestId });
      await store.create(first, owner);
      const again = await store.create(draftJob({ requestId }), owner);
      expect(again.created).toBe(false);
      expect(again.job.id).toBe(first.id);
      const page = await store.list({ owner, limit: 10 });
      expect(page.jobs.map((job) => job.id)).toEqual([first.id]);
      // Request ids are the owner's own: another owner's equal id makes a new job.
      expect((await store.create(draftJob({ requestId }), otherOwner)).created).toBe(true);
    });

    it("ends a pending job once, raising its version, and tells its subscribers", async () => {
      const job = draftJob();
      await store.create(job, owner);
      const seen: Job[] = [];
      const unsubscribe = store.subscribe(job.id, (update) => seen.push(update));
      const at = Date.now() + 5;
      const result = await store.finish(job.id, { state: JobState.ERROR, errorMessage: "boom", at });
      expect(result?.changed).toBe(true);
      expect(result?.job).toMatchObject({ state: JobState.ERROR, errorMessage: "boom", version: 2n });
      expect(timestampMs(result!.job.updateTime!)).toBe(at);
      await waitUntil(() => seen.length > 0, { what: "the subscriber to be told" });
      expect(seen.map((update) => update.version)).toEqual([2n]);
      expect((await store.get(job.id))?.job).toEqual(result?.job);

      const again = await store.finish(job.id, { state: JobState.CANCELLED, at: Date.now() });
      expect(again?.changed).toBe(false);
      expect(again?.job.state).toBe(JobState.ERROR);
      unsubscribe();
      expect(await store.finish(newJobId(), { state: JobState.COMPLETED, at: Date.now() })).toBeUndefined();
    });

    it("updates a pending job compare-and-set, telling its subscribers, and leaves ended jobs alone", async () => {
      const job = draftJob({ kind: "demo" });
      await store.create(job, owner);
      const seen: Job[] = [];
      const unsubscribe = store.subscribe(job.id, (update) => seen.push(update));
      const at = Date.now();
      // Two racing updates that each add one to the attempt: both land, one after the other.
      const bump = (current: Job): Job => changedJob(current, { attempt: current.attempt + 1 }, at);
      const [one, two] = await Promise.all([store.update(job.id, bump), store.update(job.id, bump)]);
      expect([one?.changed, two?.changed]).toEqual([true, true]);
      const stored = (await store.get(job.id))?.job;
      expect(stored).toMatchObject({ state: JobState.PENDING, attempt: 2, version: 3n, kind: "demo" });
      await waitUntil(() => seen.some((update) => update.version === 3n), { what: "the subscriber to be told" });
      expect(await store.update(job.id, () => undefined)).toEqual({ job: stored, changed: false });
      await store.finish(job.id, { state: JobState.CANCELLED, at });
      const after = await store.update(job.id, bump);
      expect(after).toMatchObject({ changed: false, job: { state: JobState.CANCELLED, attempt: 2 } });
      expect(await store.update(newJobId(), bump)).toBeUndefined();
      unsubscribe();
    });

    it("lets exactly one of two racing finishes win", async () => {
      const job = draftJob();
      await store.create(job, owner);
      const results = await Promise.all([
        store.finish(job.id, { state: JobState.COMPLETED, at: Date.now() }),
        store.finish(job.id, { state: JobState.CANCELLED, at: Date.now() }),
      ]);
      expect(results.filter((result) => result?.changed)).toHaveLength(1);
      expect((await store.get(job.id))?.job.version).toBe(2n);
    });

    it("stops telling a subscriber once it unsubscribes, and tells no one of other jobs", async () => {
      const [watched, other] = [draftJob(), draftJob()];
      await store.create(watched, owner);
      await store.create(other, owner);
      const seen: string[] = [];
      // Witnesses that stay subscribed: once they are told of a change, so would be anyone else
      // subscribed to that job (a store tells a job's listeners together).
      const witnessed: string[] = [];
      const unwatchOther = store.subscribe(other.id, (update) => witnessed.push(update.id));
      const unwatchWatched = store.subscribe(watched.id, (update) => witnessed.push(update.id));
      try {
        const unsubscribe = store.subscribe(watched.id, (update) => seen.push(update.id));
        await store.finish(other.id, { state: JobState.COMPLETED, at: Date.now() });
        await waitUntil(() => witnessed.length === 1, { what: "the witness of the other job to be told" });
        expect(witnessed).toEqual([other.id]);
        unsubscribe();
        await store.finish(watched.id, { state: JobState.COMPLETED, at: Date.now() });
        await waitUntil(() => witnessed.length === 2, { what: "the witness of the watched job to be told" });
        expect(witnessed).toEqual([other.id, watched.id]);
        expect(seen).toEqual([]);
      } finally {
        unwatchOther();
        unwatchWatched();
      }
    });

    it("lists an owner's jobs newest first, page by page, by state", async () => {
      const jobs = [];
      for (let i = 0; i < 5; i++) {
        const job = draftJob();
        await store.create(job, owner);
        jobs.push(job);
      }
      await store.create(draftJob(), otherOwner);
      await store.finish(jobs[1]!.id, { state: JobState.COMPLETED, at: Date.now() });
      await store.finish(jobs[3]!.id, { state: JobState.COMPLETED, at: Date.now() });

      const first = await store.list({ owner, limit: 2 });
      expect(first.jobs.map((job) => job.id)).toEqual([jobs[4]!.id, jobs[3]!.id]);
      const second = await store.list({ owner, limit: 2, after: first.next });
      expect(second.jobs.map((job) => job.id)).toEqual([jobs[2]!.id, jobs[1]!.id]);
      const last = await store.list({ owner, limit: 2, after: second.next });
      expect(last.jobs.map((job) => job.id)).toEqual([jobs[0]!.id]);
      expect(last.next).toBeUndefined();

      const completed = await store.list({ owner, limit: 10, state: JobState.COMPLETED });
      expect(completed.jobs.map((job) => job.id)).toEqual([jobs[3]!.id, jobs[1]!.id]);
      expect(completed.jobs.every((job) => job.state === JobState.COMPLETED)).toBe(true);
      const pending = await store.list({ owner, limit: 10, state: JobState.PENDING });
      expect(pending.jobs.map((job) => job.id)).toEqual([jobs[4]!.id, jobs[2]!.id, jobs[0]!.id]);
      expect((await store.list({ owner: otherOwner, limit: 10 })).jobs).toHaveLength(1);
    });

    it("pages every job of an owner exactly once, newest first, while jobs end between pages", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const job = draftJob();
        await store.create(job, i % 4 === 3 ? otherOwner : owner);
        if (i % 4 !== 3) {
          ids.push(job.id);
        }
      }
      const seen: string[] = [];
      let after: number | undefined;
      let pages = 0;
      do {
        const page = await store.list({ owner, limit: 4, after });
        seen.push(...page.jobs.map((job) => job.id));
        after = page.next;
        pages++;
        // Ends a job on each side of the cursor: one already listed, one still to come.
        const [listed, coming] = [seen[seen.length - 1], ids.find((id) => !seen.includes(id))];
        for (const id of [listed, coming]) {
          if (id !== undefined) {
            await store.finish(id, { state: JobState.COMPLETED, at: Date.now() });
          }
        }
      } while (after !== undefined);
      expect(seen).toEqual([...ids].reverse());
      expect(pages).toBe(3);
    });

    it("pages a state filter newest first without repeats while jobs leave and join the state", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const job = draftJob();
        await store.create(job, owner);
        ids.push(job.id);
      }
      const newestFirst = [...ids].reverse();
      // The newest is listed first, then ends: its position still continues the listing.
      const first = await store.list({ owner, state: JobState.PENDING, limit: 3 });
      expect(first.jobs.map((job) => job.id)).toEqual(newestFirst.slice(0, 3));
      await store.finish(newestFirst[2]!, { state: JobState.CANCELLED, at: Date.now() });
      await store.finish(newestFirst[4]!, { state: JobState.CANCELLED, at: Date.now() });
      const second = await store.list({ owner, state: JobState.PENDING, limit: 3, after: first.next });
      expect(second.jobs.map((job) => job.id)).toEqual([newestFirst[3], newestFirst[5], newestFirst[6]]);
      const last = await store.list({ owner, state: JobState.PENDING, limit: 3, after: second.next });
      expect(last.jobs.map((job) => job.id)).toEqual(newestFirst.slice(7));
      expect(last.next).toBeUndefined();
      const cancelled = await store.list({ owner, state: JobState.CANCELLED, limit: 1 });
      expect(cancelled.jobs.map((job) => job.id)).toEqual([newestFirst[2]]);
      const olderCancelled = await store.list({ owner, state: JobState.CANCELLED, limit: 1, after: cancelled.next });
      expect(olderCancelled.jobs.map((job) => job.id)).toEqual([newestFirst[4]]);
      expect(olderCancelled.next).toBeUndefined();
    });

    it("gives an empty page with no next for a filter that matches nothing, an unknown owner or a cursor past the oldest", async () => {
      const jobs = [draftJob(), draftJob()];
      for (const job of jobs) {
        await store.create(job, owner);
      }
      expect(await store.list({ owner, state: JobState.ERROR, limit: 10 })).toEqual({ jobs: [] });
      expect(await store.list({ owner: `nobody-${randomUUID()}`, limit: 10 })).toEqual({ jobs: [] });
      const full = await store.list({ owner, limit: 2 });
      expect(full.jobs).toHaveLength(2);
      // A full page that ends the listing says so: no next to an empty page.
      expect(full.next).toBeUndefined();
      const one = await store.list({ owner, limit: 1 });
      expect(await store.list({ owner, limit: 1, after: one.next })).toEqual({ jobs: [jobs[0]] });
      // Positions start at 1, so nothing comes after it.
      expect(await store.list({ owner, limit: 10, after: 1 })).toEqual({ jobs: [] });
    });

    it("counts jobs by state as they are created and end", async () => {
      const before = await store.counts();
      const [a, b] = [draftJob(), draftJob()];
      await store.create(a, owner);
      await store.create(b, otherOwner);
      await store.finish(a.id, { state: JobState.COMPLETED, at: Date.now() });
      const after = await store.counts();
      expect((after.PENDING ?? 0) - (before.PENDING ?? 0)).toBe(1);
      expect((after.COMPLETED ?? 0) - (before.COMPLETED ?? 0)).toBe(1);
    });

    it("can be closed twice", async () => {
      await store.close();
    });
  });
}
