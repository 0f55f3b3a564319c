import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  CallAbortedError,
  DeadlineExceededError,
  JobClient,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../../client/index.js";
import { JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { retryLaterError } from "../../server/policy/retry-later-error.js";

// JobClient's retry loop against an in-process router, on fake timers: backoff, server hints,
// the total timeout and aborts, with no real waiting.

const jobId = "AAAAAAAAAAAAAAAAAAAAAA";
const pendingJob = create(JobSchema, {
  id: jobId,
  state: JobState.PENDING,
  version: 1n,
  createTime: timestampFromMs(0),
  estimatedCompletionTime: timestampFromMs(60_000),
});

/** A client over a router whose GetStatus runs `getStatus`, counting calls. */
function clientWith(getStatus: ServiceImpl<typeof JobService>["getStatus"], options = {}) {
  const calls = { count: 0 };
  const transport = createRouterTransport(({ service }) =>
    service(JobService, {
      getStatus: (req, ctx) => {
        calls.count++;
        return getStatus(req, ctx);
      },
    }),
  );
  return { client: new JobClient({ transport, random: () => 0.5, ...options }), calls };
}

/** Settles `promise` into a value or an error so that fake-timer tests can inspect it later. */
function settle<T>(promise: Promise<T>): { done: () => boolean; result: () => T | unknown } {
  let finished = false;
  let outcome: T | unknown;
  const finish = (value: unknown): void => {
    finished = true;
    outcome = value;
  };
  promise.then(finish, finish);
  return { done: () => finished, result: () => outcome };
}

describe("JobClient retries", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries UNAVAILABLE after full-jitter exponential backoff, then succeeds", async () => {
    let failures = 3;
    const { client, calls } = clientWith(() => {
      if (failures-- > 0) {
        throw new ConnectError("down", Code.Unavailable);
      }
      return { job: pendingJob };
    });
    const call = settle(client.getStatus(jobId));
    // random() = 0.5 of caps 200, 400, 800 ms: 100 + 200 + 400 = 700 ms of backoff.
    await vi.advanceTimersByTimeAsync(699);
    expect(call.done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.done()).toBe(true);
    expect(calls.count).toBe(4);
  });

  it("waits at least the RetryInfo delay, however short the backoff", async () => {
    let refused = false;
    const { client, calls } = clientWith(
      () => {
        if (!refused) {
          refused = true;
          throw retryLaterError("slow down", 3_000);
        }
        return { job: pendingJob };
      },
      { random: () => 0 },
    );
    const call = settle(client.getStatus(jobId));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(call.done()).toBe(false);
    expect(calls.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.done()).toBe(true);
    expect(calls.count).toBe(2);
  });

  it("throws the typed error once maxRetries is used up: RateLimitError with retryAfterMs", async () => {
    const { client, calls } = clientWith(
      () => {
        throw retryLaterError("slow down", 1_500);
      },
      { maxRetries: 2 },
    );
    const call = settle(client.getStatus(jobId));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.result()).toBeInstanceOf(RateLimitError);
    expect((call.result() as RateLimitError).retryAfterMs).toBe(1_500);
    expect(calls.count).toBe(3);
  });

  it("ends awaitCompletion at its timeout with DeadlineExceededError carrying the last job", async () => {
    let first = true;
    const { client } = clientWith(
      () => {
        if (first) {
          first = false;
          return { job: pendingJob };
        }
        throw new ConnectError("broken", Code.Internal);
      },
      { maxRetries: 1_000 },
    );
    const started = Date.now();
    const wait = settle(client.awaitCompletion(jobId, { timeoutMs: 5_000 }));
    await vi.advanceTimersByTimeAsync(4_000);
    expect(wait.done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(wait.done()).toBe(true);
    const error = wait.result() as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.lastJob?.id).toBe(jobId);
    expect(error.lastJob?.version).toBe(1n);
    expect(error.cause).toBeInstanceOf(ServerError);
    expect(Date.now() - started).toBeLessThanOrEqual(5_000);
  });

  for (const code of [
    Code.InvalidArgument,
    Code.NotFound,
    Code.FailedPrecondition,
    Code.Unauthenticated,
    Code.PermissionDenied,
  ]) {
    it(`never retries ${Code[code]}`, async () => {
      const { client, calls } = clientWith(() => {
        throw new ConnectError("no", code);
      });
      const error = await client.getStatus(jobId).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JobClientError);
      expect((error as JobClientError).code).toBe(code);
      expect(calls.count).toBe(1);
      if (code === Code.NotFound) {
        expect(error).toBeInstanceOf(JobNotFoundError);
      }
    });
  }

  it("aborts at once during a backoff sleep, with the signal's reason as cause", async () => {
    const { client, calls } = clientWith(() => {
      throw new ConnectError("down", Code.Unavailable);
    });
    const controller = new AbortController();
    const call = settle(client.getStatus(jobId, { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error("user left");
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(call.result()).toBeInstanceOf(CallAbortedError);
    expect((call.result() as CallAbortedError).cause).toBe(reason);
    expect(calls.count).toBe(1);
  });

  it("aborts a call in flight", async () => {
    const { client } = clientWith(
      (_req, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        }),
    );
    const controller = new AbortController();
    const call = settle(client.getStatus(jobId, { waitMs: 20_000, knownVersion: 1n, signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(100);
    expect(call.done()).toBe(false);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(call.result()).toBeInstanceOf(CallAbortedError);
  });

  it("returns the cancelled job when a cancel's answer was lost and its retry finds it cancelled", async () => {
    let state = JobState.PENDING;
    const cancelCalls = { count: 0 };
    const transport = createRouterTransport(({ service }) =>
      service(JobService, {
        cancelJob: () => {
          cancelCalls.count++;
          if (state === JobState.PENDING) {
            state = JobState.CANCELLED;
            throw new ConnectError("answer lost", Code.Unavailable);
          }
          throw new ConnectError("job has ended already", Code.FailedPrecondition);
        },
        getStatus: () => ({ job: { ...pendingJob, state, version: 2n } }),
      }),
    );
    const client = new JobClient({ transport, random: () => 0 });
    const cancelling = settle(client.cancelJob(jobId));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cancelCalls.count).toBe(2);
    expect((cancelling.result() as { state: JobState }).state).toBe(JobState.CANCELLED);
  });

  it("gives up at once when the server's hint lies past the deadline", async () => {
    const { client, calls } = clientWith(() => {
      throw retryLaterError("slow down", 60_000);
    });
    const call = settle(client.getStatus(jobId, { timeoutMs: 5_000 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(call.result()).toBeInstanceOf(DeadlineExceededError);
    expect((call.result() as DeadlineExceededError).cause).toBeInstanceOf(RateLimitError);
    expect(calls.count).toBe(1);
  });
});

describe("JobClient against a port fetch refuses", () => {
  it("fails at once with a NetworkError saying so, as no retry can get through", async () => {
    // 6000 (X11) is among the ports the Fetch standard blocks: Node's fetch refuses it unsent.
    const said: string[] = [];
    const log = (_fields: Record<string, unknown>, message: string): void => void said.push(message);
    const client = new JobClient({
      baseUrl: "http://127.0.0.1:6000",
      maxRetries: 3,
      logger: { debug: log, info: log, warn: log },
    });
    const error = await client.getStatus(jobId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toBe(
      "could not reach the server: fetch refuses the URL's port, one the Fetch standard blocks: serve on another port",
    );
    expect(said.filter((message) => /retry/i.test(message))).toEqual([]);
  });
});
