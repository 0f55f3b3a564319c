import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { changedJob, type JobStore } from "../../server/stores/job-store.js";
import { createRedisJobStore } from "../../server/stores/redis-job-store.js";
import { deleteKeys, findRedis } from "../support/redis.js";
import { describeJobStoreContract, draftJob } from "../support/stores/job-store-contract.js";
import { storeWith } from "../support/stores/store-with.js";
import { waitUntil } from "../support/wait-until.js";

const redisUrl = await findRedis();
const prefix = `jobs-test:${randomUUID()}:`;

afterAll(async () => {
  if (redisUrl !== undefined) {
    await deleteKeys(redisUrl, prefix);
  }
});

describeJobStoreContract(
  "redis",
  async (): Promise<JobStore> => {
    const redis = new Redis(redisUrl as string);
    let closed = false;
    const store = createRedisJobStore({
      redis,
      prefix,
      idempotencyTtlMs: 60_000,
      retentionMs: 60_000,
      onError: (error) => console.error(error),
    });
    // Closing the store closes the connection made for it too.
    return storeWith(store, {
      close: async () => {
        await store.close();
        if (!closed) {
          closed = true;
          await redis.quit();
        }
      },
    });
  },
  { skip: redisUrl === undefined },
);

describe.skipIf(redisUrl === undefined)("Redis job store retention", () => {
  it("removes an ended job after JOB_RETENTION, from reads and listings, and forgets request ids after IDEMPOTENCY_TTL", async () => {
    const redis = new Redis(redisUrl as string);
    const store = createRedisJobStore({ redis, prefix, idempotencyTtlMs: 300, retentionMs: 300, onError: () => undefined });
    try {
      const owner = `owner-${randomUUID()}`;
      const requestId = randomUUID();
      const job = draftJob({ requestId });
      await store.create(job, owner);
      await store.finish(job.id, { state: JobState.COMPLETED, at: Date.now() });
      expect((await store.get(job.id))?.job.state).toBe(JobState.COMPLETED);
      // Redis expires the key 300 ms after the finish; its request id, set at the create, before.
      await waitUntil(async () => (await store.get(job.id)) === undefined, { what: "the ended job to expire" });
      expect((await store.list({ owner, limit: 10 })).jobs).toEqual([]);
      expect((await store.create(draftJob({ requestId }), owner)).created).toBe(true);
    } finally {
      await store.close();
      await redis.quit();
    }
  });
});

describe.skipIf(redisUrl === undefined)("Redis job store, two instances", () => {
  const twoInstances = () => {
    const connections = [new Redis(redisUrl as string), new Redis(redisUrl as string)];
    const [a, b] = connections.map((redis) =>
      createRedisJobStore({ redis, prefix, idempotencyTtlMs: 60_000, retentionMs: 60_000, onError: () => undefined }),
    ) as [JobStore, JobStore];
    const close = async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all(connections.map((redis) => redis.quit()));
    };
    return { a, b, close };
  };

  it("keeps its last sight of a job (lastSeen, possibly stale) apart from reads (get, never stale)", async () => {
    const { a, b, close } = twoInstances();
    try {
      const job = draftJob();
      await a.create(job, "");
      await b.update(job.id, (seen) => changedJob(seen, { attempt: 1 }, Date.now()));
      expect((await a.lastSeen(job.id))?.job.version).toBe(1n);
      expect((await a.get(job.id))?.job.version).toBe(2n);
      expect((await a.lastSeen(job.id))?.job.version).toBe(2n);
    } finally {
      await close();
    }
  });

  it("never decides 'no change' on its last sight alone: a job changed through another instance is read again", async () => {
    const { a, b, close } = twoInstances();
    try {
      const job = draftJob();
      await a.create(job, "");
      await b.update(job.id, (seen) => changedJob(seen, { held: true }, Date.now()));
      // On a's stale sight (held false) this change would be none; on the job as it is, it lets go.
      const letGo = await a.update(job.id, (seen) => (seen.held ? changedJob(seen, { held: false }, Date.now()) : undefined));
      expect(letGo).toMatchObject({ changed: true, job: { held: false, version: 3n } });
      // And a change tried on the stale sight is tried again on the job as it is (compare-and-set).
      await b.update(job.id, (seen) => changedJob(seen, { attempt: 2 }, Date.now()));
      const started = await a.update(job.id, (seen) => changedJob(seen, { attempt: seen.attempt + 1 }, Date.now()));
      expect(started).toMatchObject({ changed: true, job: { attempt: 3, version: 5n } });
    } finally {
      await close();
    }
  });
});
