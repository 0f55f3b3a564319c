import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { type WatchJobsResponse, WatchJobsResponseSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { DeadlineExceededError, JobNotFoundError, ServerError } from "../errors.js";
import { resolveClientOptions } from "../job-client-options.js";
import type { OpenManyStreamOptions } from "../job-reader.js";
import { ManyScope } from "./many-scope.js";
import { streamManyChanges } from "./stream-many-changes.js";

// streamManyChanges over a reader of the test's own (no client, no server), on fake timers:
// what is asked again after a stream breaks, and when.

const job = (id: string, version: bigint, state = JobState.PENDING): Job => create(JobSchema, { id, state, version });
const message = (jobs: Job[], notFoundJobIds: string[] = []): WatchJobsResponse =>
  create(WatchJobsResponseSchema, { jobs, notFoundJobIds });

/** A reader whose stream number n (from 0) plays `plays[n]`, then fails as the last one does. */
function scriptedReader(plays: Array<() => AsyncGenerator<WatchJobsResponse>>) {
  const opened: Array<{ at: number; jobIds: string[]; knownVersions: bigint[] }> = [];
  return {
    opened,
    reader: {
      openManyStream({ jobIds, knownVersions }: OpenManyStreamOptions): AsyncIterable<WatchJobsResponse> {
        opened.push({ at: Date.now(), jobIds, knownVersions });
        return (plays[opened.length - 1] ?? (plays.at(-1) as () => AsyncGenerator<WatchJobsResponse>))();
      },
    },
  };
}

const noFallback = (): AsyncGenerator<Job, void, undefined> => {
  throw new Error("no fallback expected");
};

/**
 * Runs the stream to its end on fake timers, taking each job yielded as seen (as watchMany
 * does): the jobs yielded, and the error it ended with.
 */
async function run(options: Parameters<typeof streamManyChanges>[0]): Promise<{ yielded: Job[]; error: unknown }> {
  const yielded: Job[] = [];
  const following = (async () => {
    for await (const changed of streamManyChanges(options)) {
      options.scope.see(changed);
      yielded.push(changed);
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  await vi.runAllTimersAsync();
  return { yielded, error: await following };
}

describe("streamManyChanges", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reopens for the jobs not yet ended with the versions seen, no sooner than the server's RetryInfo", async () => {
    const evicted = new ConnectError("holding too many", Code.ResourceExhausted, undefined, [
      { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(2_000) }) },
    ]);
    const { reader, opened } = scriptedReader([
      async function* () {
        yield message([job("a", 1n), job("b", 2n, JobState.COMPLETED), job("c", 3n)]);
        throw evicted;
      },
      async function* () {
        yield message([job("a", 2n, JobState.ERROR), job("c", 4n, JobState.COMPLETED)]);
      },
    ]);
    const settings = resolveClientOptions({ random: () => 0.5 });
    const scope = new ManyScope(["a", "b", "c"], undefined, undefined);
    const { yielded, error } = await run({ reader, settings, scope, jobIds: ["a", "b", "c"], fallback: noFallback });
    expect(error).toBeUndefined();
    expect(yielded.map((j) => [j.id, j.version])).toEqual([
      ["a", 1n],
      ["b", 2n],
      ["c", 3n],
      ["a", 2n],
      ["c", 4n],
    ]);
    expect(opened.map(({ jobIds, knownVersions }) => ({ jobIds, knownVersions }))).toEqual([
      { jobIds: ["a", "b", "c"], knownVersions: [0n, 0n, 0n] },
      { jobIds: ["a", "c"], knownVersions: [1n, 3n] },
    ]);
    // The hint, spread by up to 10% above it (random 0.5: 5%).
    expect((opened[1]?.at ?? 0) - (opened[0]?.at ?? 0)).toBe(2_100);
  });

  it("backs off exponentially while reopening fails, then throws the last failure after maxRetries", async () => {
    const { reader, opened } = scriptedReader([
      async function* () {
        yield* [];
        throw new ConnectError("away", Code.Unavailable);
      },
    ]);
    const settings = resolveClientOptions({ maxRetries: 3, random: () => 1, retry: { initialDelayMs: 100 } });
    const scope = new ManyScope(["a"], undefined, undefined);
    const { error } = await run({ reader, settings, scope, jobIds: ["a"], fallback: noFallback });
    expect(error).toBeInstanceOf(ServerError);
    const started = opened[0]?.at ?? 0;
    expect(opened.map(({ at }) => at - started)).toEqual([0, 100, 300, 700]);
  });

  it("reopens at once after a stream that ended with news, and after a backoff after one that brought none", async () => {
    const { reader, opened } = scriptedReader([
      async function* () {
        yield message([job("a", 1n)]);
      },
      async function* () {
        yield* [];
      },
      async function* () {
        yield message([job("a", 2n, JobState.COMPLETED)]);
      },
    ]);
    const settings = resolveClientOptions({ random: () => 0.5 });
    const scope = new ManyScope(["a"], undefined, undefined);
    const { error } = await run({ reader, settings, scope, jobIds: ["a"], fallback: noFallback });
    expect(error).toBeUndefined();
    const started = opened[0]?.at ?? 0;
    // The first backoff: half (random 0.5) of initialDelayMs, 200.
    expect(opened.map(({ at }) => at - started)).toEqual([0, 0, 100]);
  });

  it("throws JobNotFoundError naming every id the answer lists, and yields none of its jobs", async () => {
    const { reader } = scriptedReader([
      async function* () {
        yield message([job("a", 1n)], ["x", "y"]);
      },
    ]);
    const settings = resolveClientOptions({});
    const scope = new ManyScope(["a", "x", "y"], undefined, undefined);
    const { yielded, error } = await run({ reader, settings, scope, jobIds: ["a", "x", "y"], fallback: noFallback });
    expect(yielded).toEqual([]);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error).toMatchObject({ jobId: "x", jobIds: ["x", "y"], message: '2 jobs not found: "x", "y"' });
  });

  it("hands the jobs still open to the fallback when the server has no WatchJobs (UNIMPLEMENTED)", async () => {
    const { reader } = scriptedReader([
      async function* () {
        yield message([job("a", 2n, JobState.COMPLETED), job("b", 1n)]);
        throw new ConnectError("no such method", Code.Unimplemented);
      },
    ]);
    const handed: string[][] = [];
    const fallback = async function* (jobIds: string[]): AsyncGenerator<Job, void, undefined> {
      handed.push(jobIds);
      yield job("b", 2n, JobState.COMPLETED);
    };
    const settings = resolveClientOptions({});
    const scope = new ManyScope(["a", "b"], undefined, undefined);
    const { yielded, error } = await run({ reader, settings, scope, jobIds: ["a", "b"], fallback });
    expect(error).toBeUndefined();
    expect(handed).toEqual([["b"]]);
    expect(yielded.map((j) => [j.id, j.version])).toEqual([
      ["a", 2n],
      ["b", 1n],
      ["b", 2n],
    ]);
  });

  it("times out with each job as last seen once streams that end early have used the time", async () => {
    const { reader } = scriptedReader([
      async function* () {
        yield message([job("a", 1n)]);
        throw new ConnectError("away", Code.Unavailable);
      },
    ]);
    const settings = resolveClientOptions({ maxRetries: 1_000, random: () => 0.5 });
    const scope = new ManyScope(["a", "b"], 5_000, undefined);
    const { error } = await run({ reader, settings, scope, jobIds: ["a", "b"], fallback: noFallback });
    expect(error).toBeInstanceOf(DeadlineExceededError);
    // "b" was never read: it is left out of lastJobs, and still counted as not ended.
    expect(error).toMatchObject({ lastJob: { id: "a", version: 1n }, message: "2 of 2 jobs did not end within 5000 ms" });
    expect((error as DeadlineExceededError).lastJobs.map((j) => j.id)).toEqual(["a"]);
    expect((error as DeadlineExceededError).cause).toBeInstanceOf(ServerError);
  });

  // As streamChanges: a stream cut for every wait that ends counts against the connection.
  it("reads a stream on to the end that the server gives it once every job has ended, and never cuts it", async () => {
    let cut = false;
    let readToEnd = false;
    const { reader } = scriptedReader([
      async function* () {
        try {
          yield message([job("a", 2n, JobState.COMPLETED)]);
          yield message([job("b", 2n, JobState.COMPLETED)]);
          readToEnd = true;
        } finally {
          cut = !readToEnd;
        }
      },
    ]);
    const scope = new ManyScope(["a", "b"], undefined, undefined);
    const { yielded, error } = await run({
      reader,
      settings: resolveClientOptions({}),
      scope,
      jobIds: ["a", "b"],
      fallback: noFallback,
    });
    expect(error).toBeUndefined();
    expect(yielded.map((changed) => changed.id)).toEqual(["a", "b"]);
    expect({ readToEnd, cut }).toEqual({ readToEnd: true, cut: false });
  });
});
