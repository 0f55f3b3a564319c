import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { createRouterTransport } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DeadlineExceededError,
  JOB_STATUS,
  type Job,
  JobClient,
  JobWorker,
  jobInput,
  jobResult,
  POLLING_MODES,
} from "../../client/index.js";
import { JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { clientFor, type RunningServer, startServer } from "../support/start-server.js";
import { fakeJobsServer } from "./fake-jobs-server.js";

// createAndAwait: a job started and waited for under one timeout, in one call where the server
// holds the create until the job's end (CreateJobRequest.wait), else as awaitCompletion follows it.

describe("createAndAwait against the server", () => {
  let server: RunningServer | undefined;
  let worker: JobWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await server?.close();
    server = undefined;
  });

  it("resolves with the job its worker did, result included, in one call", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    worker = new JobWorker({
      baseUrl: server.url,
      kinds: ["sum"],
      handler: async (job) => (jobInput(job) as number[]).reduce((a, b) => a + b, 0),
    });
    worker.start();
    const { client, counter } = clientFor(server.url);
    const done = await client.createAndAwait({ kind: "sum", input: [1, 2, 3] }, { timeoutMs: 30_000 });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(jobResult(done)).toBe(6);
    expect(counter.calls).toEqual(new Map([["CreateJob", 1]]));
  });

  it("rejects with DeadlineExceededError when the job does not end within timeoutMs", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const { client } = clientFor(server.url);
    const failure = await client
      .createAndAwait({ processingDurationMs: 3_600_000 }, { timeoutMs: 300 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    // The caller's timeout, with the job as last seen, whether the hold or a long wait ran out.
    expect((failure as DeadlineExceededError).message).toMatch(/ within 300 ms$/);
    expect((failure as DeadlineExceededError).lastJob?.state).toBe(JOB_STATUS.PENDING);
  });
});

describe("createAndAwait when the server could not hold the create", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits the answer's next_poll_after before it follows the job", async () => {
    vi.useFakeTimers();
    const asked: number[] = [];
    const pending = create(JobSchema, { id: "job-1", state: JobState.PENDING, version: 1n });
    const transport = createRouterTransport(({ service }) => {
      service(JobService, {
        createJob: () => ({ job: pending, nextPollAfter: durationFromMs(2_000) }),
        getStatus: () => {
          asked.push(Date.now());
          return { job: { ...pending, state: JobState.COMPLETED, version: 2n } };
        },
      });
    });
    const client = new JobClient({ transport });
    const createdAt = Date.now();
    const done = client.createAndAwait({ processingDurationMs: 1 });
    await vi.advanceTimersByTimeAsync(1_900);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect((await done).state).toBe(JOB_STATUS.COMPLETED);
    expect((asked[0] as number) - createdAt).toBeGreaterThanOrEqual(2_000);
  });
});

describe("createAndAwait against a server that answers creates at once", () => {
  it("asks the create to wait as long as a long wait, then follows the job with long waits", async () => {
    const server = fakeJobsServer();
    const client = new JobClient({ transport: server.transport });
    const waiting = client.createAndAwait({ kind: "k", input: 1 }, { timeoutMs: 60_000 });
    await expect.poll(() => server.requests.createJob.length).toBe(1);
    const [request] = server.requests.createJob;
    expect(request?.wait === undefined ? undefined : durationMs(request.wait)).toBe(30_000);
    const jobId = server.queuedJobs()[0] as string;
    server.finish(jobId, "done");
    const done = await waiting;
    expect(done).toMatchObject({ id: jobId, state: JOB_STATUS.COMPLETED });
    expect(jobResult(done)).toBe("done");
  });

  it("with onUpdate, asks no wait of the create and reports every version", async () => {
    const server = fakeJobsServer();
    const client = new JobClient({ transport: server.transport });
    const seen: bigint[] = [];
    const waiting = client.createAndAwait({ kind: "k" }, { onUpdate: (job: Job) => seen.push(job.version) });
    await expect.poll(() => seen.length).toBe(1);
    expect(server.requests.createJob[0]?.wait).toBeUndefined();
    const jobId = server.queuedJobs()[0] as string;
    server.setProgress(jobId, { fraction: 0.5, message: "" });
    await expect.poll(() => seen.length).toBe(2);
    server.finish(jobId);
    await waiting;
    expect(seen).toEqual([1n, 2n, 3n]);
  });

  it("refuses a mode it does not know, or a negative timeout, before creating anything", async () => {
    const server = fakeJobsServer();
    const client = new JobClient({ transport: server.transport });
    await expect(client.createAndAwait({ kind: "k" }, { mode: "FAST" as never })).rejects.toThrow(RangeError);
    await expect(client.createAndAwait({ kind: "k" }, { timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(client.createAndAwait({ kind: "k" }, { mode: POLLING_MODES.SHORT, pollIntervalMs: -1 })).rejects.toThrow(
      RangeError,
    );
    expect(server.requests.createJob).toEqual([]);
  });
});
