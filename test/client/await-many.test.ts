import { durationMs } from "@bufbuild/protobuf/wkt";
import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CallAbortedError,
  DeadlineExceededError,
  JOB_STATUS,
  type Job,
  JobClient,
  JobNotFoundError,
  POLLING_MODES,
} from "../../client/index.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { newJobId } from "../../server/service/job-id.js";
import { SIMULATED_ERROR_MESSAGE } from "../../server/stores/job-runner.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { type CallCounter, countCalls, type RunningServer, startServer } from "../support/start-server.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { waitUntil } from "../support/wait-until.js";
import { fakeJobsServer } from "./fake-jobs-server.js";

// awaitAll, awaitAny and watchMany against a real server: many jobs on WatchJobs streams,
// resumed when a stream breaks, split past 1000 ids, and long waits where there is no WatchJobs.

function clientOver(url: string, kind: "fetch" | "grpc" = "fetch"): { client: JobClient; counter: CallCounter } {
  const counter = countCalls();
  const transport =
    kind === "fetch"
      ? createConnectTransport({ baseUrl: url, interceptors: [counter.interceptor] })
      : createGrpcTransport({ baseUrl: url, interceptors: [counter.interceptor] });
  return { client: new JobClient({ transport, retry: { initialDelayMs: 20 } }), counter };
}

/** Creates one job per duration (ms; negative: failing after as long), in parallel. */
async function createJobs(client: JobClient, durationsMs: readonly number[]): Promise<Job[]> {
  return Promise.all(durationsMs.map((ms) => client.createJob({ processingDurationMs: Math.abs(ms), shouldError: ms < 0 })));
}

/** The versions reported of each job, by id. */
function versionsById(updates: readonly Job[]): Map<string, bigint[]> {
  const byId = new Map<string, bigint[]>();
  for (const job of updates) {
    byId.set(job.id, [...(byId.get(job.id) ?? []), job.version]);
  }
  return byId;
}

describe("awaitAll, awaitAny and watchMany", () => {
  const heldWaits = new HeldWaits();
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    // Every wait lets go of its stream when it ends, however it ends.
    await waitUntil(() => heldWaits.size === 0, { what: () => `no wait held, ${heldWaits.size} held` });
  });

  it("awaitAll resolves with 50 jobs of mixed durations, each ended, in the order of their ids, over one WatchJobs stream", async () => {
    const { client, counter } = clientOver(server.url);
    const jobs = await createJobs(
      client,
      Array.from({ length: 50 }, (_, i) => 200 + ((i * 7) % 10) * 100),
    );
    const updates: Job[] = [];
    const ended = await client.awaitAll(
      jobs.map((job) => job.id),
      { timeoutMs: 20_000, onUpdate: (job) => updates.push(job) },
    );
    expect(ended.map((job) => job.id)).toEqual(jobs.map((job) => job.id));
    expect(ended.every((job) => job.state === JOB_STATUS.COMPLETED)).toBe(true);
    // Each job reported first as it was, then at its end, never twice at the same version.
    for (const [id, versions] of versionsById(updates)) {
      expect(versions, id).toEqual([...new Set(versions)].sort());
      expect(versions.at(-1), id).toBe(2n);
    }
    expect(versionsById(updates).size).toBe(50);
    expect(counter.total("WatchJobs")).toBe(1);
    expect(counter.total("GetStatus")).toBe(0);
  });

  it("awaitAll resolves with a job that ended in ERROR among the others: a failed job is an outcome, not an error", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(client, [300, -200, 400]);
    const ended = await client.awaitAll(
      jobs.map((job) => job.id),
      { timeoutMs: 10_000 },
    );
    expect(ended.map((job) => job.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.ERROR, JOB_STATUS.COMPLETED]);
    expect(ended[1]?.errorMessage).toBe(SIMULATED_ERROR_MESSAGE);
  });

  it("awaitAny resolves with the first job to end, and ends the stream at once", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(client, [60_000, 300, 60_000]);
    const first = await client.awaitAny(
      jobs.map((job) => job.id),
      { timeoutMs: 10_000 },
    );
    expect(first).toMatchObject({ id: jobs[1]?.id, state: JOB_STATUS.COMPLETED });
    await waitUntil(() => heldWaits.size === 0, { what: "the stream to end" });
  });

  it("rejects on timeout with DeadlineExceededError carrying the last state of each job, in the order of the ids", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(client, [60_000, 100, 60_000]);
    const ids = jobs.map((job) => job.id);
    const error = (await client.awaitAll(ids, { timeoutMs: 1_000 }).catch((e: unknown) => e)) as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.lastJobs.map((job) => [job.id, job.state])).toEqual([
      [ids[0], JOB_STATUS.PENDING],
      [ids[1], JOB_STATUS.COMPLETED],
      [ids[2], JOB_STATUS.PENDING],
    ]);
    expect(error.lastJob?.id).toBe(ids[0]);
    expect(error.message).toMatch(/^2 of 3 jobs did not end within 1000 ms$/);
  });

  it("rejects with CallAbortedError carrying the signal's reason when the signal aborts, and lets go of the stream", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(client, [60_000, 60_000]);
    const abort = new AbortController();
    const waiting = client.awaitAll(
      jobs.map((job) => job.id),
      { signal: abort.signal },
    );
    await waitUntil(() => heldWaits.size === 1, { what: "the stream to be held" });
    abort.abort(new Error("enough"));
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallAbortedError);
    expect((error as CallAbortedError).cause).toEqual(new Error("enough"));
  });

  it("rejects with JobNotFoundError naming every id not found among many, before reporting any job", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(
      client,
      Array.from({ length: 10 }, () => 60_000),
    );
    const unknown = [newJobId(), newJobId()];
    const ids = [
      ...jobs.slice(0, 5).map((job) => job.id),
      unknown[0] as string,
      ...jobs.slice(5).map((job) => job.id),
      unknown[1] as string,
    ];
    const updates: Job[] = [];
    const error = (await client
      .awaitAll(ids, { onUpdate: (job) => updates.push(job) })
      .catch((e: unknown) => e)) as JobNotFoundError;
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error.jobIds).toEqual(unknown);
    expect(error.jobId).toBe(unknown[0]);
    expect(updates).toEqual([]);
    await expect(client.awaitAny(ids)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it("splits more than 1000 ids over several WatchJobs streams", async () => {
    const { client, counter } = clientOver(server.url);
    const jobs: Job[] = [];
    for (let batch = 0; batch < 12; batch++) {
      jobs.push(
        ...(await createJobs(
          client,
          Array.from({ length: 100 }, () => 500),
        )),
      );
    }
    // Repeats are followed once, and reported in their places.
    const ids = [...jobs.map((job) => job.id), jobs[0]?.id as string];
    const ended = await client.awaitAll(ids, { timeoutMs: 30_000 });
    expect(ended).toHaveLength(1_201);
    expect(ended.map((job) => job.id)).toEqual(ids);
    expect(ended.every((job) => job.state === JOB_STATUS.COMPLETED)).toBe(true);
    // The server refuses a stream of more than 1000 ids: two streams, both accepted.
    expect(counter.total("WatchJobs")).toBe(2);
    expect(counter.failures.size).toBe(0);
  }, 60_000);

  it("watchMany yields each job as it is, then each change, and ends once every job has ended", async () => {
    const { client } = clientOver(server.url);
    const jobs = await createJobs(client, [300, 600]);
    const seen: Array<[string, number]> = [];
    for await (const job of client.watchMany(jobs.map((j) => j.id))) {
      seen.push([job.id, job.state]);
    }
    expect(seen.slice(0, 2).sort()).toEqual(jobs.map((job) => [job.id, JOB_STATUS.PENDING]).sort());
    expect(seen.slice(2)).toEqual(jobs.map((job) => [job.id, JOB_STATUS.COMPLETED]));
  });

  it("ends the server's stream when the caller breaks out of watchMany", async () => {
    const { client } = clientOver(server.url, "grpc");
    const jobs = await createJobs(client, [60_000, 60_000]);
    for await (const job of client.watchMany(jobs.map((j) => j.id))) {
      expect(job.state).toBe(JOB_STATUS.PENDING);
      await waitUntil(() => heldWaits.size === 1, { what: "the stream to be held" });
      break;
    }
    await waitUntil(() => heldWaits.size === 0, { what: "the stream to end" });
  });

  for (const kind of ["fetch", "grpc"] as const) {
    it(`resumes from the versions seen when the stream is cut mid-way, reporting no version twice (${kind})`, async () => {
      const proxy = await startTcpProxy(server.url);
      try {
        const { client, counter } = clientOver(proxy.url, kind);
        const jobs = await createJobs(client, [1_000, 1_200, 1_400]);
        const updates: Job[] = [];
        const done = client.awaitAll(
          jobs.map((job) => job.id),
          { timeoutMs: 10_000, onUpdate: (job) => updates.push(job) },
        );
        await waitUntil(() => updates.length === 3, { what: "the three jobs to be reported" });
        proxy.cutAll();
        const ended = await done;
        expect(ended.map((job) => job.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED]);
        for (const versions of versionsById(updates).values()) {
          expect(versions).toEqual([1n, 2n]);
        }
        expect(counter.total("WatchJobs")).toBeGreaterThanOrEqual(2);
      } finally {
        await proxy.close();
      }
    });
  }

  it("follows each job with its own long waits in LONG mode, and with polls in SHORT mode", async () => {
    for (const mode of [POLLING_MODES.LONG, POLLING_MODES.SHORT]) {
      const { client, counter } = clientOver(server.url);
      const jobs = await createJobs(client, [200, 400]);
      const ended = await client.awaitAll(
        jobs.map((job) => job.id),
        { mode, pollIntervalMs: 100, timeoutMs: 10_000 },
      );
      expect(ended.map((job) => job.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED]);
      expect(counter.total("WatchJobs")).toBe(0);
      expect(counter.total("GetStatus")).toBeGreaterThanOrEqual(4);
    }
  });

  it("resolves awaitAll with [] for no ids, and rejects awaitAny for none and an unknown mode with RangeError", async () => {
    const { client } = clientOver(server.url);
    await expect(client.awaitAll([])).resolves.toEqual([]);
    await expect(client.awaitAny([])).rejects.toBeInstanceOf(RangeError);
    expect(() => client.watchMany(["x"], { mode: "fast" as never })).toThrow(RangeError);
  });
});

describe("awaitAll across a restart of the server", () => {
  it("resumes from the versions seen once the server is back on its port", async () => {
    const { createMemoryJobStore } = await import("../../server/stores/memory-job-store.js");
    const { buildServer } = await import("../../server/app.js");
    const store = createMemoryJobStore();
    let app = buildServer({ store, createRate: 0 });
    try {
      await app.listen({ port: 0, host: "127.0.0.1" });
      const port = (app.server.address() as { port: number }).port;
      const { client, counter } = clientOver(`http://127.0.0.1:${port}`);
      const jobs = await createJobs(client, [60_000, 60_000]);
      const updates: Job[] = [];
      const done = client.awaitAll(
        jobs.map((job) => job.id),
        { timeoutMs: 20_000, onUpdate: (job) => updates.push(job) },
      );
      await waitUntil(() => updates.length === 2, { what: "both jobs to be reported" });
      // Closing ends the held stream with UNAVAILABLE; the client retries until the port answers.
      await app.close();
      app = buildServer({ store, createRate: 0 });
      await app.listen({ port, host: "127.0.0.1" });
      for (const job of jobs) {
        await store.finish(job.id, { state: JOB_STATUS.CANCELLED, at: Date.now() });
      }
      const ended = await done;
      expect(ended.map((job) => job.state)).toEqual([JOB_STATUS.CANCELLED, JOB_STATUS.CANCELLED]);
      for (const versions of versionsById(updates).values()) {
        expect(versions).toEqual([1n, 2n]);
      }
      expect(counter.total("WatchJobs")).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe("awaitAll without WatchJobs on the server", () => {
  it("follows each job with long waits instead (UNIMPLEMENTED)", async () => {
    const server = await startServer({ createRate: 0 });
    try {
      const upstream = new JobClient({ baseUrl: server.url });
      // A JobService that implements GetStatus (by asking the real server) and nothing else, so
      // that Connect answers WatchJobs with UNIMPLEMENTED.
      const counter = countCalls();
      const transport: Transport = createRouterTransport(
        ({ service }) =>
          service(JobService, {
            getStatus: async (req) => {
              const waitMs = req.wait === undefined ? 0 : durationMs(req.wait);
              return { job: (await upstream.getStatus(req.jobId, { waitMs, knownVersion: req.knownVersion })).job };
            },
          }),
        { transport: { interceptors: [counter.interceptor] } },
      );
      const jobs = await createJobs(upstream, [200, 400, -300]);
      const ended = await new JobClient({ transport }).awaitAll(
        jobs.map((job) => job.id),
        { timeoutMs: 10_000 },
      );
      expect(ended.map((job) => job.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED, JOB_STATUS.ERROR]);
      expect(counter.total("WatchJobs")).toBe(1);
      expect(counter.total("GetStatus")).toBeGreaterThanOrEqual(6);
    } finally {
      await server.close();
    }
  });
});

describe("awaitAll where the server does not stream, with more jobs than are followed at once", () => {
  it("holds at most 100 long waits at a time, and follows the other jobs as those end", async () => {
    const fake = fakeJobsServer();
    let held = 0;
    let most = 0;
    // The fake's transport, counting the GetStatus calls in flight.
    const transport = {
      async unary(...args: Parameters<Transport["unary"]>) {
        const isStatus = args[0].name === "GetStatus";
        held += isStatus ? 1 : 0;
        most = Math.max(most, held);
        try {
          return await fake.transport.unary(...args);
        } finally {
          held -= isStatus ? 1 : 0;
        }
      },
      stream: (...args: Parameters<Transport["stream"]>) => fake.transport.stream(...args),
    } as Transport;
    const client = new JobClient({ transport });
    const jobs = await createJobs(
      client,
      Array.from({ length: 150 }, () => 60_000),
    );
    const done = client.awaitAll(
      jobs.map((job) => job.id),
      { timeoutMs: 20_000 },
    );
    await waitUntil(() => held === 100, { what: () => `100 long waits held, ${held} held` });
    for (const job of jobs) {
      fake.finish(job.id);
    }
    const ended = await done;
    expect(ended.map((job) => job.id)).toEqual(jobs.map((job) => job.id));
    expect(ended.every((job) => job.state === JOB_STATUS.COMPLETED)).toBe(true);
    expect(most).toBe(100);
  });
});
