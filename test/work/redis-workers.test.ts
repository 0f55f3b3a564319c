import { randomUUID } from "node:crypto";
import { afterAll } from "vitest";
import { deleteKeys, findRedis } from "../support/redis.js";
import { describeWorkContract } from "../support/work-contract.js";

const redisUrl = await findRedis();
const prefix = `jobs-test:${randomUUID()}:`;

describeWorkContract("redis (BullMQ)", () => ({ redis: { url: redisUrl as string, prefix } }), { skip: redisUrl === undefined });

afterAll(async () => {
  if (redisUrl !== undefined) {
    await deleteKeys(redisUrl, prefix);
  }
});
