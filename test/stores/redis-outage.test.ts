import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { resolveServiceSettings } from "../../server/server-options.js";
import { newJobId } from "../../server/service/job-id.js";
import { createRedisBackend } from "../../server/stores/redis-backend.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { captureLog } from "../support/capture-log.js";
import { untilHeld } from "../support/held-count.js";
import { deleteKeys, findRedis } from "../support/redis.js";
import { spawnServer } from "../support/spawn-server.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { type SwitchableProxy, startSwitchableProxy } from "../support/switchable-proxy.js";
import { waitUntil } from "../support/wait-until.js";
import { workerClient } from "../support/work-contract.js";

// Redis going away and coming back: calls fail fast with UNAVAILABLE and say nothing of the
// driver, health follows, the log says so once per change, closing never hangs, and held waits
// whose jobs changed meanwhile are answered once Redis is back.
// The time bounds below are the behaviour (failing fast, closing in a bounded time), set at
// several times what it takes, as a loaded machine keeps, and far below the waits they cut short.

const redisUrl = await findRedis();
/** Nothing listens on port 1: every connection is refused at once. */
const UNREACHABLE = "redis://127.0.0.1:1";
/** What a caller must never read in an error: where Redis is, or the driver's own words. */
const DRIVER_TEXT =
  /127\.0\.0\.1|localhost|ECONN|ETIMEDOUT|EPIPE|ioredis|writeable|Connection is closed|timed out|max retries|WRONGTYPE/i;

const prefixes: string[] = [];
function newPrefix(): string {
  const prefix = `jobs-test:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}

async function codeAndMessage(call: Promise<unknown>): Promise<{ code: Code | undefined; message: string; ms: number }> {
  const started = Date.now();
  const error = await call.then(
    () => undefined,
    (caught: unknown) => ConnectError.from(caught),
  );
  return { code: error?.code, message: error?.rawMessage ?? "", ms: Date.now() - started };
}

function healthOf(url: string) {
  const health = createClient(Health, createConnectTransport({ baseUrl: url }));
  return async (): Promise<ServingStatus[]> =>
    Promise.all(["", JobService.typeName].map(async (service) => (await health.check({ service })).status));
}

/** Resolves once both health statuses of the server are `status`. */
async function untilHealth(health: () => Promise<ServingStatus[]>, status: ServingStatus): Promise<void> {
  let last: ServingStatus[] = [];
  await waitUntil(
    async () => {
      last = await health();
      return last.every((each) => each === status);
    },
    {
      intervalMs: 20,
      what: () => `health ${ServingStatus[status]} (last seen: ${last.map((each) => ServingStatus[each]).join(", ")})`,
    },
  );
}

/**
 * Resolves once the reads that the held waits on `url` made of their jobs, after registering,
 * are answered: a held wait reads its job once more after subscribing, and a read cut off by
 * Redis going away fails the wait. A later read of `jobId` on the same server is answered after
 * them, as its Redis connection answers in order.
 */
async function heldReadsDone(url: string, jobId: string): Promise<void> {
  await rawClient(url).getStatus({ jobId });
}

/** The messages of the log entries that tell the backend's availability, in order. */
function availabilityLines(entries: Record<string, unknown>[]): string[] {
  return entries.map((entry) => String(entry.msg)).filter((msg) => msg.startsWith("job backend"));
}

afterAll(async () => {
  if (redisUrl !== undefined) {
    await Promise.all(prefixes.map((prefix) => deleteKeys(redisUrl, prefix)));
  }
});

describe("a server whose Redis cannot be reached", () => {
  it("fails every call with UNAVAILABLE within about a second, naming no host, says NOT_SERVING, warns once and ends on SIGTERM", async () => {
    const server = await spawnServer({ JOB_STORE: "redis", REDIS_URL: UNREACHABLE, REDIS_PREFIX: newPrefix() });
    try {
      const client = rawClient(server.url);
      const calls = [
        client.createJob({ processingDuration: { seconds: 1n }, requestId: randomUUID() }),
        client.createJob({ processingDuration: { seconds: 1n }, requestId: randomUUID() }),
        client.getStatus({ jobId: newJobId() }),
        client.getStatus({ jobId: newJobId(), wait: { seconds: 10n }, knownVersion: 1n }),
        client.listJobs({}),
        client.cancelJob({ jobId: newJobId() }),
        client.createJob({ kind: "outage" }),
        workerClient(server.url).claimJob({ kinds: ["outage"], wait: { seconds: 10n } }),
        workerClient(server.url).heartbeat({ jobId: newJobId(), leaseToken: "token" }),
      ];
      for (const outcome of await Promise.all(calls.map(codeAndMessage))) {
        expect(outcome.code).toBe(Code.Unavailable);
        expect(outcome.ms).toBeLessThan(5_000);
        expect(outcome.message).not.toMatch(DRIVER_TEXT);
      }
      expect(await healthOf(server.url)()).toEqual([ServingStatus.NOT_SERVING, ServingStatus.NOT_SERVING]);

      const stopping = Date.now();
      expect(await server.stop("SIGTERM")).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      const lines = server
        .output()
        .split("\n")
        .filter((line) => line !== "");
      // Only the server's own log lines: no driver stacks or warnings printed beside them.
      expect(lines.filter((line) => !line.startsWith("{"))).toEqual([]);
      const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(availabilityLines(entries)).toEqual(["job backend unavailable: calls fail with UNAVAILABLE until it is back"]);
      expect(entries.filter((entry) => entry.level >= 50)).toEqual([]);
    } finally {
      await server.stop("SIGKILL");
    }
  });

  it("gives a runner and rate limits that fail fast, and closes within a bounded time", async () => {
    const backend = createRedisBackend({
      url: UNREACHABLE,
      prefix: newPrefix(),
      settings: resolveServiceSettings({}),
      clock: Date,
      onError: () => undefined,
    });
    try {
      const job = create(JobSchema, { id: newJobId(), state: JobState.PENDING, version: 1n });
      const scheduled = await codeAndMessage(backend.runner.start(job));
      expect(scheduled.code).toBe(Code.Unavailable);
      expect(scheduled.ms).toBeLessThan(5_000);
      const limited = await codeAndMessage(backend.limits.create("caller"));
      expect(limited.code).toBe(Code.Unavailable);
      expect(limited.ms).toBeLessThan(5_000);
      expect(backend.availability?.available).toBe(false);
    } finally {
      const closing = Date.now();
      await backend.close();
      expect(Date.now() - closing).toBeLessThan(10_000);
    }
  });
});

describe.skipIf(redisUrl === undefined)("a server whose Redis goes away and comes back", () => {
  let proxy: SwitchableProxy | undefined;
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await proxy?.close();
    proxy = undefined;
  });

  it("says NOT_SERVING while Redis is away and SERVING once it is back, logging each change once", async () => {
    proxy = await startSwitchableProxy(redisUrl as string);
    const log = captureLog();
    const server = await startServer({ redis: { url: proxy.url, prefix: newPrefix() }, logger: log.logger });
    servers.push(server);
    const health = healthOf(server.url);
    const client = rawClient(server.url);
    expect(await health()).toEqual([ServingStatus.SERVING, ServingStatus.SERVING]);

    proxy.down();
    await untilHealth(health, ServingStatus.NOT_SERVING);
    const refused = await codeAndMessage(client.createJob({ processingDuration: { seconds: 1n }, requestId: randomUUID() }));
    expect(refused.code).toBe(Code.Unavailable);
    expect(refused.ms).toBeLessThan(5_000);
    expect(refused.message).not.toMatch(DRIVER_TEXT);
    // Several attempts to reconnect fail meanwhile, and none of them is logged.
    await waitUntil(() => (proxy?.refused ?? 0) >= 12, { timeoutMs: 20_000, what: "12 refused reconnections" });

    proxy.up();
    await untilHealth(health, ServingStatus.SERVING);
    const { job } = await client.createJob({ processingDuration: { seconds: 1n }, requestId: randomUUID() });
    expect(job?.state).toBe(JobState.PENDING);
    // The workers' queues are back too: a job of a kind is claimed.
    const work = (await client.createJob({ kind: "after-outage" })).job;
    const claim = await workerClient(server.url).claimJob({ kinds: ["after-outage"], wait: { seconds: 10n } });
    expect(claim.job?.id).toBe(work?.id);
    expect(availabilityLines(log.entries())).toEqual([
      "job backend available",
      "job backend unavailable: calls fail with UNAVAILABLE until it is back",
      "job backend available",
    ]);
    expect(log.entries().filter((entry) => Number(entry.level) >= 50)).toEqual([]);
  });

  it("closes within a bounded time while Redis is away, answering its held waits", async () => {
    proxy = await startSwitchableProxy(redisUrl as string);
    const heldWaits = new HeldWaits();
    const app = await startServer({ redis: { url: proxy.url, prefix: newPrefix() }, heldWaits });
    servers.push(app);
    const client = rawClient(app.url);
    const { job } = await client.createJob({ processingDuration: { seconds: 60n } });
    const held = client.getStatus({ jobId: job!.id, wait: { seconds: 25n }, knownVersion: 1n });
    await untilHeld(heldWaits, 1);
    await heldReadsDone(app.url, job!.id);
    proxy.down();
    // Its connections have noticed: they try to reconnect, and are refused.
    await waitUntil(() => (proxy?.refused ?? 0) >= 3, { what: "3 refused reconnections" });

    const closing = Date.now();
    await app.close();
    expect(Date.now() - closing).toBeLessThan(10_000);
    expect((await held).job?.state).toBe(JobState.PENDING);
  });

  it("answers every held wait whose job changed while its subscriber was cut off, soon after it reconnects", async () => {
    proxy = await startSwitchableProxy(redisUrl as string);
    const prefix = newPrefix();
    const heldWaits = new HeldWaits();
    // A reaches Redis through the proxy; B directly, and changes the jobs while A is cut off.
    const a = await startServer({ redis: { url: proxy.url, prefix }, heldWaits, createRate: 0 });
    servers.push(a);
    const b = await startServer({ redis: { url: redisUrl as string, prefix }, createRate: 0 });
    servers.push(b);
    const jobs = await Promise.all(
      Array.from({ length: 20 }, async () => (await rawClient(b.url).createJob({ processingDuration: { seconds: 60n } })).job!),
    );
    const waits = jobs.map((job) => rawClient(a.url).getStatus({ jobId: job.id, wait: { seconds: 25n }, knownVersion: 1n }));
    await untilHeld(heldWaits, jobs.length);
    await heldReadsDone(a.url, jobs[0]!.id);

    proxy.down();
    await Promise.all(jobs.map((job) => rawClient(b.url).cancelJob({ jobId: job.id })));
    await waitUntil(() => (proxy?.refused ?? 0) >= 1, { what: "a refused reconnection" });
    proxy.up();
    const back = Date.now();
    const replies = await Promise.all(waits);

    expect(Date.now() - back).toBeLessThan(5_000);
    expect(replies.map((reply) => reply.job?.state)).toEqual(jobs.map(() => JobState.CANCELLED));
  });
});
