import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { JobStore } from "../../server/stores/job-store.js";
import { createRedisJobStore } from "../../server/stores/redis-job-store.js";
import { describeJobStoreContract, draftJob } from "../support/job-store-contract.js";
import { deleteKeys, findRedis } from "../support/redis.js";
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
    return {
      create: (job, owner) => store.create(job, owner),
      get: (id) => store.get(id),
      finish: (id, outcome, seen) => store.finish(id, outcome, seen),
      update: (id, change, seen) => store.update(id, change, seen),
      list: (query) => store.list(query),
      subscribe: (id, listener) => store.subscribe(id, listener),
      counts: () => store.counts(),
      close: async () => {
        await store.close();
        if (!closed) {
          closed = true;
          await redis.quit();
        }
      },
    };
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
