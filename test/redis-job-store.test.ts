import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import type { JobStore } from "../server/job-store.js";
import { createRedisJobStore } from "../server/redis-job-store.js";
import { describeJobStoreContract } from "./support/job-store-contract.js";
import { deleteKeys, findRedis } from "./support/redis.js";

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
      finish: (id, outcome) => store.finish(id, outcome),
      list: (query) => store.list(query),
      subscribe: (id, listener) => store.subscribe(id, listener),
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
