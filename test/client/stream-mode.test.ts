import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { createGrpcTransport, createConnectTransport as createNodeConnectTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JOB_STATUS, type Job, JobClient, POLLING_MODES } from "../../client/index.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { WorkerService } from "../../gen/jobs/v1/worker_service_pb.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { countCalls, type RunningServer, startServer } from "../support/start-server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

// STREAM mode and watch(): a WatchJob stream per job, resumed from the last version seen when
// it breaks, and long waits where the server does not stream.

describe("STREAM mode", () => {
  let server: RunningServer;
  const heldWaits = new HeldWaits();
  beforeAll(async () => {
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  function client(url: string, transport: "fetch" | "grpc" = "fetch") {
    const counter = countCalls();
    const made =
      transport === "fetch"
        ? createConnectTransport({ baseUrl: url, interceptors: [counter.interceptor] })
        : createGrpcTransport({ baseUrl: url, interceptors: [counter.interceptor] });
    return { client: new JobClient({ transport: made, retry: { initialDelayMs: 20 } }), counter };
  }

  it("resolves with the COMPLETED job within 100 ms of its end, over one WatchJob stream", async () => {
    const { client: jobs, counter } = client(server.url);
    const job = await jobs.createJob({ processingDurationMs: 800 });
    const seen: bigint[] = [];
    const done = await jobs.awaitCompletion(job.id, {
      mode: POLLING_MODES.STREAM,
      timeoutMs: 10_000,
      onUpdate: (update) => seen.push(update.version),
    });
    expect(Date.now() - timestampMs(done.updateTime!)).toBeLessThan(100);
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(seen).toEqual([1n, 2n]);
    expect(counter.total("WatchJob")).toBe(1);
    expect(counter.total("GetStatus")).toBe(0);
  });

  for (const transport of ["fetch", "grpc"] as const) {
    it(`resumes from the last version seen when the stream is cut mid-way (${transport})`, async () => {
      const proxy: TcpProxy = await startTcpProxy(server.url);
      try {
        const { client: jobs, counter } = client(proxy.url, transport);
        const job = await jobs.createJob({ processingDurationMs: 1_000 });
        const seen: Job[] = [];
        const done = jobs.awaitCompletion(job.id, {
          mode: POLLING_MODES.STREAM,
          timeoutMs: 10_000,
          onUpdate: (update) => seen.push(update),
        });
        await vi.waitFor(() => expect(seen).toHaveLength(1));
        proxy.cutAll();
        const finished = await done;
        expect(finished.state).toBe(JOB_STATUS.COMPLETED);
        expect(seen.map((update) => update.version)).toEqual([1n, 2n]);
        expect(counter.total("WatchJob")).toBe(2);
      } finally {
        await proxy.close();
      }
    });
  }

  it("watch() yields the job, then each change, and ends after the terminal state", async () => {
    const { client: jobs } = client(server.url);
    const job = await jobs.createJob({ processingDurationMs: 300, shouldError: true });
    const states = [];
    for await (const update of jobs.watch(job.id)) {
      states.push(update.state);
    }
    expect(states).toEqual([JOB_STATUS.PENDING, JOB_STATUS.ERROR]);
  });

  it("ends the server's stream when the caller breaks out of watch()", async () => {
    const { client: jobs } = client(server.url, "grpc");
    const job = await jobs.createJob({ processingDurationMs: 30_000 });
    for await (const update of jobs.watch(job.id)) {
      expect(update.version).toBe(1n);
      await vi.waitFor(() => expect(heldWaits.size).toBe(1));
      break;
    }
    await vi.waitFor(() => expect(heldWaits.size).toBe(0), { timeout: 1_000 });
  });
  // Each WatchJob stream is read to its end, never cut (RST_STREAM): HTTP/2 servers end a
  // connection whose peer resets streams faster than about 33 a second after a burst of 1000
  // (nghttp2's rapid-reset guard, in Node's server too: GOAWAY with INTERNAL_ERROR, which fails
  // every call on the connection), and STREAM mode cut each stream after its job's end.
  it("follows 2,500 jobs to their end on one HTTP/2 connection without the server ending it", async () => {
    const transport = createNodeConnectTransport({ baseUrl: server.url, httpVersion: "2" });
    const jobs = new JobClient({ transport });
    // A call held on the same connection all along: it fails if the connection is ended.
    const held = new AbortController();
    const claims = createClient(WorkerService, transport);
    const holding = (async () => {
      while (!held.signal.aborted) {
        await claims.claimJob({ kinds: ["stream-mode.none"], wait: { seconds: 20n } }, { signal: held.signal });
      }
    })().catch((error: unknown) => (held.signal.aborted ? undefined : error));
    const total = 2_500;
    let started = 0;
    const follow = async (): Promise<number> => {
      let completed = 0;
      while (started < total) {
        started++;
        const job = await jobs.createJob({ processingDurationMs: 0 });
        const done = await jobs.awaitCompletion(job.id, { mode: POLLING_MODES.STREAM, timeoutMs: 30_000 });
        completed += done.state === JOB_STATUS.COMPLETED ? 1 : 0;
      }
      return completed;
    };
    try {
      const completed = await Promise.all(Array.from({ length: 16 }, follow));
      expect(completed.reduce((sum, count) => sum + count, 0)).toBe(total);
    } finally {
      held.abort();
    }
    expect(await holding).toBeUndefined();
  }, 60_000);
});

describe("STREAM mode without WatchJob on the server", () => {
  it("follows the job with long waits instead (UNIMPLEMENTED)", async () => {
    const server = await startServer();
    try {
      const upstream = new JobClient({ baseUrl: server.url });
      // A JobService that implements GetStatus (by asking the real server) but not WatchJob,
      // which Connect then answers with UNIMPLEMENTED.
      const counter = countCalls();
      const transport = createRouterTransport(
        ({ service }) =>
          service(JobService, {
            getStatus: async (req) => {
              const wait = req.wait === undefined ? 0 : durationMs(req.wait);
              const status = await upstream.getStatus(req.jobId, { waitMs: wait, knownVersion: req.knownVersion });
              return { job: status.job };
            },
          }),
        { transport: { interceptors: [counter.interceptor] } },
      );
      const job = await upstream.createJob({ processingDurationMs: 300 });
      const done = await new JobClient({ transport }).awaitCompletion(job.id, { mode: POLLING_MODES.STREAM, timeoutMs: 5_000 });
      expect(done.state).toBe(JOB_STATUS.COMPLETED);
      expect(counter.total("WatchJob")).toBe(1);
      expect(counter.total("GetStatus")).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});
