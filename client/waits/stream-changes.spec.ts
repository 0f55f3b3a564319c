import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import type { WatchJobResponse } from "../../gen/jobs/v1/job_service_pb.js";
import { DeadlineExceededError, ServerError } from "../errors.js";
import { resolveClientOptions } from "../job-client-options.js";
import type { OpenStreamOptions } from "../job-reader.js";
import { streamChanges } from "./stream-changes.js";
import { WaitScope } from "./wait-scope.js";

// streamChanges over a reader of the test's own (no client, no server), on fake timers.

const jobId = "AAAAAAAAAAAAAAAAAAAAAA";
const pending = create(JobSchema, { id: jobId, state: JobState.PENDING, version: 1n });

/** A reader whose first stream yields the pending job then breaks, and whose later streams fail at once. */
function breakingReader() {
  const opened: bigint[] = [];
  return {
    opened,
    reader: {
      async *openStream(_jobId: string, { knownVersion }: OpenStreamOptions): AsyncGenerator<WatchJobResponse> {
        opened.push(knownVersion);
        if (opened.length === 1) {
          yield { job: pending } as WatchJobResponse;
        }
        throw new ConnectError("broken", Code.Unavailable);
      },
    },
  };
}

describe("streamChanges", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reopens from the last version seen, and times out with the last job and the last failure as cause", async () => {
    const { reader, opened } = breakingReader();
    const settings = resolveClientOptions({ maxRetries: 1_000, random: () => 0.5 });
    const scope = new WaitScope(jobId, 1_000, undefined);
    const seen: Job[] = [];
    const following = (async () => {
      const fallback = async function* (): AsyncGenerator<Job, void, undefined> {};
      for await (const job of streamChanges({ reader, settings, scope, knownVersion: 0n, fallback })) {
        seen.push(job);
      }
    })().catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = (await following) as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.lastJob?.version).toBe(1n);
    expect(error.cause).toBeInstanceOf(ServerError);
    expect(seen.map((job) => job.version)).toEqual([1n]);
    expect(opened[0]).toBe(0n);
    expect(opened.slice(1).every((version) => version === 1n)).toBe(true);
    expect(opened.length).toBeGreaterThan(2);
  });

  it("logs each retry as calls do: one warning naming the method, the job, the retry and the code", async () => {
    const { reader } = breakingReader();
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = { warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }) };
    const settings = resolveClientOptions({ maxRetries: 1, random: () => 0.5, logger });
    const scope = new WaitScope(jobId, undefined, undefined);
    const fallback = async function* (): AsyncGenerator<Job, void, undefined> {};
    const following = (async () => {
      for await (const _job of streamChanges({ reader, settings, scope, knownVersion: 0n, fallback })) {
        // Only the failure matters here.
      }
    })().catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    // One retry allowed: the second failure is thrown as it is.
    expect(await following).toBeInstanceOf(ServerError);
    expect(warnings).toEqual([
      {
        fields: { method: "WatchJob", jobId, retry: 1, delayMs: 100, code: "Unavailable" },
        message: "retrying WatchJob after ServerError",
      },
    ]);
  });

  // A stream cut for every job that ends (RST_STREAM) counts against the connection: HTTP/2
  // servers (nghttp2, in Node's too) end a connection that resets streams faster than about 33 a
  // second after a burst of 1000, which a client following many jobs on one connection reaches.
  it("reads a stream on to the end that the server gives it after the job's end, and never cuts it", async () => {
    const ended = create(JobSchema, { id: jobId, state: JobState.COMPLETED, version: 2n });
    const reads: string[] = [];
    const reader = {
      openStream: (): AsyncIterable<WatchJobResponse> => ({
        [Symbol.asyncIterator]() {
          const messages = [pending, ended];
          return {
            next: async () => {
              const job = messages.shift();
              reads.push(job === undefined ? "end" : `v${job.version}`);
              return job === undefined ? { done: true, value: undefined } : { done: false, value: { job } as WatchJobResponse };
            },
            return: async () => {
              reads.push("cut");
              return { done: true, value: undefined };
            },
          };
        },
      }),
    };
    const settings = resolveClientOptions({});
    const scope = new WaitScope(jobId, 1_000, undefined);
    const fallback = async function* (): AsyncGenerator<Job, void, undefined> {};
    const seen: bigint[] = [];
    for await (const job of streamChanges({ reader, settings, scope, knownVersion: 0n, fallback })) {
      seen.push(job.version);
    }
    expect(seen).toEqual([1n, 2n]);
    expect(reads).toEqual(["v1", "v2", "end"]);
  });
});
