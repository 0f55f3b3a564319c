import { toBinary } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JOB_STATUS, type Job, JobClient, JobWorker, jobInput, jobResult, POLLING_MODES } from "../../client/index.js";
import { CreateJobRequestSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { type FakeJobsServer, fakeJobsServer, settle } from "./fake-jobs-server.js";

// JobClient and jobs of a kind, against the in-process fake on fake timers: what createJob sends,
// progress reaching onUpdate in every mode, and a worker's result read back with jobResult.

describe("createJob with a kind", () => {
  let server: FakeJobsServer;
  let client: JobClient;
  beforeEach(() => {
    server = fakeJobsServer();
    client = new JobClient({ transport: server.transport });
  });

  it("sends the kind, the input as a JSON value and maxAttempts, a request id, and no processing duration", async () => {
    const job = await client.createJob({
      kind: "resize",
      input: { url: "https://example.com/a.png", sizes: [64, 128] },
      maxAttempts: 5,
    });
    const [request] = server.requests.createJob;
    expect(request?.kind).toBe("resize");
    expect(request?.maxAttempts).toBe(5);
    expect(request?.processingDuration).toBeUndefined();
    expect(request?.shouldError).toBe(false);
    expect(request?.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobInput(job)).toEqual({ url: "https://example.com/a.png", sizes: [64, 128] });
    expect(job.kind).toBe("resize");
  });

  it("sends a simulated job's request exactly as before: duration, should_error and a request id only", async () => {
    await client.createJob({ processingDurationMs: 1_500, shouldError: true, requestId: "5b1f5d0e-8a4c-4f4e-9d4a-2f6b1c9e7a10" });
    await client.createJob(250);
    const [explicit, positional] = server.requests.createJob;
    const before = {
      processingDuration: durationFromMs(1_500),
      shouldError: true,
      requestId: "5b1f5d0e-8a4c-4f4e-9d4a-2f6b1c9e7a10",
    };
    expect(toBinary(CreateJobRequestSchema, explicit!)).toEqual(
      toBinary(CreateJobRequestSchema, { $typeName: "jobs.v1.CreateJobRequest", kind: "", maxAttempts: 0, ...before }),
    );
    expect(durationMs(positional!.processingDuration!)).toBe(250);
    expect(positional?.requestId).not.toBe("");
    expect(positional?.kind).toBe("");
    expect(positional?.input).toBeUndefined();
  });

  it("sends an input of JSON null as null, and none when input is left out", async () => {
    await client.createJob({ kind: "k", input: null });
    await client.createJob({ kind: "k" });
    const [withNull, without] = server.requests.createJob;
    expect(withNull?.input?.kind.case).toBe("nullValue");
    expect(without?.input).toBeUndefined();
  });

  it("refuses, before any call, a maxAttempts that is not a whole number >= 0, and fields of the other sort of job", async () => {
    await expect(client.createJob({ kind: "k", maxAttempts: 2.5 })).rejects.toThrow(RangeError);
    await expect(client.createJob({ kind: "k", maxAttempts: -1 })).rejects.toThrow(/maxAttempts/);
    await expect(client.createJob({ kind: "k", processingDurationMs: 100 })).rejects.toThrow(/simulated job/);
    await expect(client.createJob({ processingDurationMs: 100, input: 1 })).rejects.toThrow(/job of a kind/);
    await expect(client.createJob({ kind: "k", input: Number.NaN })).rejects.toThrow(/input must be a JSON value/);
    await expect(client.createJob({})).rejects.toThrow(/processingDurationMs/);
    expect(server.requests.createJob).toEqual([]);
  });
});

describe("awaitCompletion of a job of a kind", () => {
  let server: FakeJobsServer;
  let client: JobClient;
  beforeEach(() => {
    vi.useFakeTimers();
    server = fakeJobsServer();
    client = new JobClient({ transport: server.transport });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const mode of [POLLING_MODES.LONG, POLLING_MODES.SHORT, POLLING_MODES.STREAM]) {
    it(`reports each progress change to onUpdate while the job stays PENDING, in ${mode.toUpperCase()} mode`, async () => {
      const job = await client.createJob({ kind: "k" });
      const seen: Array<[state: number, fraction: number | undefined, message: string | undefined]> = [];
      const done = client.awaitCompletion(job.id, {
        mode,
        pollIntervalMs: 100,
        onUpdate: (update: Job) => seen.push([update.state, update.progress?.fraction, update.progress?.message]),
      });
      await settle();
      server.setProgress(job.id, { fraction: 0.25, message: "a quarter" });
      await vi.advanceTimersByTimeAsync(200);
      server.setProgress(job.id, { fraction: 0.75, message: "three quarters" });
      await vi.advanceTimersByTimeAsync(200);
      server.finish(job.id, { answer: 42 });
      await vi.advanceTimersByTimeAsync(200);
      const ended = await done;
      expect(seen).toEqual([
        [JOB_STATUS.PENDING, undefined, undefined],
        [JOB_STATUS.PENDING, 0.25, "a quarter"],
        [JOB_STATUS.PENDING, 0.75, "three quarters"],
        [JOB_STATUS.COMPLETED, 0.75, "three quarters"],
      ]);
      expect(jobResult(ended)).toEqual({ answer: 42 });
    });
  }

  it("resolves with the result a JobWorker returned, its progress seen on the way", async () => {
    const worker = new JobWorker({
      transport: server.transport,
      kinds: ["sum"],
      handler: async (job, { progress }) => {
        const numbers = jobInput(job) as number[];
        progress(0.5, "adding");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return numbers.reduce((sum, n) => sum + n, 0);
      },
    });
    void worker.start();
    const job = await client.createJob({ kind: "sum", input: [1, 2, 3] });
    const messages: string[] = [];
    const done = client.awaitCompletion(job.id, { onUpdate: (update) => messages.push(update.progress?.message ?? "") });
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    const ended = await done;
    expect(ended.state).toBe(JOB_STATUS.COMPLETED);
    expect(jobResult(ended)).toBe(6);
    expect(messages).toContain("adding");
    const stopping = worker.stop();
    await settle();
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
  });
});
