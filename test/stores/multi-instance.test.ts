import { randomUUID } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { untilHeld } from "../support/held-count.js";
import { deleteKeys, findRedis } from "../support/redis.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { rawClient } from "../support/start-server.js";

// Two server processes on one Redis (JOB_STORE=redis), as behind a load balancer: they share
// jobs, wake-ups, processing, rate limits and idempotency, and one's death loses no job.

const redisUrl = await findRedis();

describe.skipIf(redisUrl === undefined)("two instances on one Redis", () => {
  const prefix = `jobs-test:${randomUUID()}:`;
  const env = { JOB_STORE: "redis", REDIS_URL: redisUrl ?? "", REDIS_PREFIX: prefix, SHORT_POLL_RATE: "3" };
  let a: ServerProcess;
  let b: ServerProcess;
  const extra: ServerProcess[] = [];
  beforeAll(async () => {
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((server) => server.stop("SIGKILL")));
  });
  afterAll(async () => {
    await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
    await deleteKeys(redisUrl as string, prefix);
  });

  it("wakes a long wait on B soon after the end of a job created on A", async () => {
    const { job } = await rawClient(a.url).createJob({ processingDuration: { nanos: 500_000_000 } });
    const reply = await rawClient(b.url).getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
    const answeredAt = Date.now();
    expect(reply.job?.state).toBe(JobState.COMPLETED);
    // Woken by A's message through Redis, not by the 10 s wait running out. The wake takes a few
    // ms (bench/ measures it); 5 s is what a loaded machine keeps and still tells the two apart.
    expect(answeredAt - timestampMs(reply.job!.updateTime!)).toBeLessThan(5_000);
  });

  it("streams WatchJob on B for a job created on A, to its end", async () => {
    const { job } = await rawClient(a.url).createJob({ processingDuration: { nanos: 300_000_000 }, shouldError: true });
    const states: JobState[] = [];
    for await (const update of rawClient(b.url).watchJob({ jobId: job!.id })) {
      states.push(update.job!.state);
    }
    expect(states).toEqual([JobState.PENDING, JobState.ERROR]);
  });

  it("finishes a job whose instance was killed right after creating it, and wakes the waiter on B", async () => {
    const doomed = await spawnServer(env);
    extra.push(doomed);
    const { job } = await rawClient(doomed.url).createJob({ processingDuration: { nanos: 500_000_000 } });
    await doomed.stop("SIGKILL");
    const reply = await rawClient(b.url).getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
    expect(reply.job?.state).toBe(JobState.COMPLETED);
  });

  it("leaves a closing instance's unfinished jobs to the others, and answers its held waits", async () => {
    const leaving = await spawnServer(env);
    extra.push(leaving);
    const client = rawClient(leaving.url);
    // Long enough to be still pending when the instance has closed, on a busy machine too.
    const { job } = await client.createJob({ processingDuration: { seconds: 4n } });
    const held = client.getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
    held.catch(() => undefined);
    await untilHeld(leaving.url, 1);
    expect(await leaving.stop("SIGTERM")).toBe(0);
    // Answered by the closing instance, unchanged: not woken by the job's end, nor cut off at
    // DRAIN_TIMEOUT (that would reject).
    expect((await held).job?.state).toBe(JobState.PENDING);
    const reply = await rawClient(a.url).getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
    expect(reply.job?.state).toBe(JobState.COMPLETED);
  });

  it("holds one rate limit across A and B", async () => {
    const { job } = await rawClient(a.url).createJob({ processingDuration: { seconds: 30n } });
    const codes: (Code | undefined)[] = [];
    for (const url of [a.url, b.url, a.url, b.url]) {
      codes.push(
        await rawClient(url)
          .getStatus({ jobId: job!.id })
          .then(
            () => undefined,
            (error: unknown) => ConnectError.from(error).code,
          ),
      );
    }
    expect(codes).toEqual([undefined, undefined, undefined, Code.ResourceExhausted]);
  });

  it("keeps a create idempotent across A and B", async () => {
    const requestId = randomUUID();
    const first = await rawClient(a.url).createJob({ processingDuration: { seconds: 30n }, requestId });
    const again = await rawClient(b.url).createJob({ processingDuration: { seconds: 30n }, requestId });
    expect(again.job?.id).toBe(first.job?.id);
  });
});
