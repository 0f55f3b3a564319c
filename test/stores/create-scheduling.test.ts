import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { newJobId } from "../../server/service/job-id.js";
import { captureLog } from "../support/capture-log.js";
import { deleteKeys, findRedis } from "../support/redis.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";

// On Redis a create stores the job first and then schedules its BullMQ task, whose id is the
// job's: a repeated request_id adds no task for a job never stored, and a create whose
// scheduling failed is mended by its retry.

const redisUrl = await findRedis();

/** The BullMQ queue a server with `prefix` finishes its jobs on (see redis-backend.ts). */
function finishQueue(prefix: string, connection: Redis): Queue {
  return new Queue("finish-jobs", { connection, prefix: `${prefix}queue` });
}

/** The ids of every task in `queue`, whatever its state. */
async function taskIds(queue: Queue): Promise<string[]> {
  const tasks = await queue.getJobs(["delayed", "wait", "active", "prioritized", "completed", "failed"]);
  return tasks.map((task) => task.id as string).sort();
}

describe.skipIf(redisUrl === undefined)("scheduling created jobs on Redis", () => {
  const prefixes: string[] = [];
  const servers: RunningServer[] = [];
  let redis: Redis;
  const queues: Queue[] = [];
  const serverOn = async (prefix: string, options: Parameters<typeof startServer>[0] = {}) => {
    prefixes.push(prefix);
    const server = await startServer({ redis: { url: redisUrl as string, prefix }, ...options });
    servers.push(server);
    const queue = finishQueue(prefix, redis);
    queues.push(queue);
    return { server, client: rawClient(server.url), queue };
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  });
  beforeAll(() => {
    redis = new Redis(redisUrl as string, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await redis.quit();
    await Promise.all(prefixes.map((prefix) => deleteKeys(redisUrl as string, prefix)));
  });

  it("keeps one task, the job's own, however often a create is repeated with its request_id", async () => {
    const { client, queue } = await serverOn(`jobs-test:${randomUUID()}:`);
    const requestId = randomUUID();
    const created = await Promise.all(
      Array.from({ length: 5 }, () => client.createJob({ processingDuration: { seconds: 60n }, requestId })),
    );
    const ids = new Set(created.map((reply) => reply.job!.id));
    expect(ids.size).toBe(1);
    expect(await taskIds(queue)).toEqual([...ids]);
  });

  it("fails a create whose scheduling failed with UNAVAILABLE, keeps the job, and schedules it when the create is retried", async () => {
    const prefix = `jobs-test:${randomUUID()}:`;
    const { client, queue } = await serverOn(prefix);
    // A queue key of the wrong type: adding a task fails, storing the job does not.
    const meta = `${prefix}queue:finish-jobs:meta`;
    await redis.set(meta, "not a hash");
    const requestId = randomUUID();
    const request = { processingDuration: { seconds: 60n }, requestId };

    const error = await client.createJob(request).then(
      () => undefined,
      (caught: unknown) => ConnectError.from(caught),
    );
    expect(error?.code).toBe(Code.Unavailable);
    expect(error?.rawMessage).not.toMatch(/WRONGTYPE|script|127\.0\.0\.1/i);
    const { jobs } = await client.listJobs({});
    expect(jobs.map((job) => job.state)).toEqual([JobState.PENDING]);
    await redis.del(meta);
    expect(await taskIds(queue)).toEqual([]);

    const { job } = await client.createJob(request);
    expect(job?.id).toBe(jobs[0]?.id);
    expect(await taskIds(queue)).toEqual([job!.id]);
  });

  it("completes, logging nothing, a task whose job is not stored", async () => {
    const log = captureLog();
    const { queue } = await serverOn(`jobs-test:${randomUUID()}:`, { logger: log.logger });
    const id = newJobId();
    await queue.add(
      "finish",
      { jobId: id },
      { jobId: id, attempts: 10, backoff: { type: "exponential", delay: 100 }, removeOnComplete: true },
    );
    await vi.waitFor(async () => expect(await taskIds(queue)).toEqual([]), { timeout: 10_000, interval: 50 });
    expect(log.entries().filter((entry) => Number(entry.level) >= 50)).toEqual([]);
  });
});
