import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { type Job, JobState } from "../../gen/jobs/v1/job_pb.js";
import type { WatchJobsResponse } from "../../gen/jobs/v1/job_service_pb.js";
import type { ServerOptions } from "../../server/server-options.js";
import { newJobId } from "../../server/service/job-id.js";
import { createMemoryJobStore } from "../../server/stores/memory-job-store.js";
import { metricValue } from "../support/metric-value.js";
import { rejection } from "../support/rejection.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";

// WatchJobs: many jobs on one stream, each job's changes as they happen, ending once all are
// terminal; resumable from the versions seen.

async function collect(stream: AsyncIterable<WatchJobsResponse>): Promise<WatchJobsResponse[]> {
  const messages: WatchJobsResponse[] = [];
  for await (const message of stream) {
    messages.push(message);
  }
  return messages;
}

describe("WatchJobs", () => {
  let server: RunningServer | undefined;
  const start = async (options: ServerOptions = {}) => {
    server = await startServer({ createRate: 0, ...options });
    return server;
  };
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const createJobs = async (url: string, durationsMs: number[]): Promise<Job[]> =>
    Promise.all(durationsMs.map(async (ms) => (await rawClient(url).createJob({ processingDuration: durationFromMs(ms) })).job!));

  it("sends every job at once, then each change, and ends once all are terminal", async () => {
    const { url } = await start();
    const jobs = await createJobs(url, [100, 300, 500]);
    const messages = await collect(rawClient(url).watchJobs({ jobIds: jobs.map((job) => job.id) }));
    expect(messages[0]?.jobs.map((job) => job.id).sort()).toEqual(jobs.map((job) => job.id).sort());
    expect(messages[0]?.jobs.every((job) => job.state === JobState.PENDING)).toBe(true);
    const ended = messages.slice(1).flatMap((message) => message.jobs);
    expect(ended.map((job) => [job.id, job.state])).toEqual(jobs.map((job) => [job.id, JobState.COMPLETED]));
  });

  it("resumes from the versions seen: nothing is sent again but changes, and terminal jobs end the stream", async () => {
    const { url } = await start();
    const [done, pending] = await createJobs(url, [0, 400]);
    await waitUntil(async () => (await rawClient(url).getStatus({ jobId: done!.id })).job?.state === JobState.COMPLETED);
    const messages = await collect(rawClient(url).watchJobs({ jobIds: [done!.id, pending!.id], knownVersions: [2n, 1n] }));
    // The ended job, at the version known, is said once (so the caller sees it end); the pending
    // one only when it changes.
    expect(messages.flatMap((message) => message.jobs.map((job) => [job.id, job.version]))).toEqual([
      [done!.id, 2n],
      [pending!.id, 2n],
    ]);
  });

  it("lists ids that name no job in the first message, and watches the others to their end", async () => {
    const { url } = await start();
    const [job] = await createJobs(url, [200]);
    const unknown = newJobId();
    const messages = await collect(rawClient(url).watchJobs({ jobIds: [unknown, job!.id] }));
    expect(messages[0]?.notFoundJobIds).toEqual([unknown]);
    expect(messages.slice(1).every((message) => message.notFoundJobIds.length === 0)).toBe(true);
    expect(messages.flatMap((message) => message.jobs).at(-1)).toMatchObject({ id: job!.id, state: JobState.COMPLETED });
    // Only ids that name nothing: one message, then the end.
    expect(await collect(rawClient(url).watchJobs({ jobIds: [unknown] }))).toMatchObject([
      { jobs: [], notFoundJobIds: [unknown] },
    ]);
  });

  it("shows a caller only its own jobs: another key's job is not found", async () => {
    const { url } = await start({ apiKeys: ["key-one-0123456789", "key-two-0123456789"] });
    const mine = (await rawClient(url, "key-one-0123456789").createJob({ processingDuration: { nanos: 100_000_000 } })).job!;
    const theirs = (await rawClient(url, "key-two-0123456789").createJob({ processingDuration: { nanos: 100_000_000 } })).job!;
    const messages = await collect(rawClient(url, "key-one-0123456789").watchJobs({ jobIds: [mine.id, theirs.id] }));
    expect(messages[0]?.notFoundJobIds).toEqual([theirs.id]);
    expect(messages.flatMap((message) => message.jobs).every((job) => job.id === mine.id)).toBe(true);
  });

  it("puts jobs that end in the same turn in one message, counted as one wake", async () => {
    const store = createMemoryJobStore();
    try {
      const { url } = await start({ store });
      const jobs = await createJobs(
        url,
        Array.from({ length: 200 }, () => 60_000),
      );
      const stream = rawClient(url)
        .watchJobs({ jobIds: jobs.map((job) => job.id) })
        [Symbol.asyncIterator]();
      expect((await stream.next()).value?.jobs).toHaveLength(200);
      await waitUntil(async () => (await metricValue(url, "held_waits")) === 1, { what: "the stream to be held" });
      const wakesBefore = await metricValue(url, "wakes_total");
      // All 200 end in one turn of the event loop, as a batch ending at once would.
      for (const job of jobs) {
        void store.finish(job.id, { state: JobState.CANCELLED, at: Date.now() });
      }
      const ending = await stream.next();
      expect(ending.value?.jobs).toHaveLength(200);
      expect((await stream.next()).done).toBe(true);
      expect(await metricValue(url, "wakes_total")).toBe(wakesBefore + 1);
      expect(await metricValue(url, "wake_delay_seconds_count")).toBe(wakesBefore + 1);
    } finally {
      await store.close();
    }
  });

  it("counts as one held wait, and refuses more jobs than MAX_WATCHED_JOBS_PER_CALLER with RetryInfo", async () => {
    const { url } = await start({ maxWatchedJobsPerCaller: 60 });
    const jobs = await createJobs(
      url,
      Array.from({ length: 50 }, () => 60_000),
    );
    const abort = new AbortController();
    const first = rawClient(url).watchJobs({ jobIds: jobs.map((job) => job.id) }, { signal: abort.signal });
    const reading = (async () => {
      for await (const _ of first) {
        // held until aborted
      }
    })().catch(() => undefined);
    await waitUntil(async () => (await metricValue(url, "held_waits")) === 1, { what: "the stream to be held" });
    const refused = await rejection(collect(rawClient(url).watchJobs({ jobIds: jobs.slice(0, 20).map((job) => job.id) })));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toMatch(/MAX_WATCHED_JOBS_PER_CALLER/);
    abort.abort();
    await reading;
    // Once the first stream is gone its jobs are given back.
    await waitUntil(async () => (await metricValue(url, "held_waits")) === 0, { what: "the stream to end" });
    const again = rawClient(url).watchJobs(
      { jobIds: jobs.slice(0, 20).map((job) => job.id) },
      { signal: AbortSignal.timeout(2_000) },
    );
    const firstMessage = await again[Symbol.asyncIterator]().next();
    expect(firstMessage.value?.jobs).toHaveLength(20);
  });

  it("refuses malformed requests with INVALID_ARGUMENT naming the field", async () => {
    const { url } = await start();
    const [job] = await createJobs(url, [60_000]);
    const cases: [object, RegExp][] = [
      [{ jobIds: [] }, /job_ids is required/],
      [{ jobIds: Array.from({ length: 1_001 }, () => job!.id) }, /at most 1000/],
      [{ jobIds: [job!.id, "nope"] }, /job_ids\[1\]/],
      [{ jobIds: [job!.id], knownVersions: [1n, 2n] }, /known_versions/],
    ];
    for (const [request, message] of cases) {
      const error = await rejection(collect(rawClient(url).watchJobs(request)));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(message);
    }
  });

  it("ends cleanly before the caller's deadline, and with UNAVAILABLE when the server closes", async () => {
    const running = await start();
    const [job] = await createJobs(running.url, [60_000]);
    const startedAt = Date.now();
    const messages = await collect(rawClient(running.url).watchJobs({ jobIds: [job!.id] }, { timeoutMs: 1_000 }));
    expect(messages).toHaveLength(1);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    const held = collect(rawClient(running.url).watchJobs({ jobIds: [job!.id], knownVersions: [1n] }));
    await waitUntil(async () => (await metricValue(running.url, "held_waits")) === 1, { what: "the stream to be held" });
    const closing = running.app.close();
    expect((await rejection(held)).code).toBe(Code.Unavailable);
    await closing;
    server = undefined;
  });
});
