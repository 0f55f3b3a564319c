import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  JOB_STATUS,
  JobClientError,
  JobWorker,
  type JobWorkerOptions,
  jobInput,
  jobResult,
  NonRetryableError,
  WorkAbortedError,
} from "../../client/index.js";
import { type FakeJobsServer, fakeJobsServer, settle } from "./fake-jobs-server.js";

// JobWorker against the in-process fake of both services, on fake timers: claims, results,
// failures, concurrency, stop() and the backoff between failed claims. Leases, heartbeats and
// progress are in job-worker-leases.test.ts.

/** A worker on `server` doing kind "k", with jitter pinned to half the backoff's cap. */
function workerOn(server: FakeJobsServer, options: Partial<JobWorkerOptions> & Pick<JobWorkerOptions, "handler">): JobWorker {
  return new JobWorker({ transport: server.transport, kinds: ["k"], random: () => 0.5, ...options });
}

/** A promise and its resolve, for handlers that run until the test lets them end. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("JobWorker", () => {
  let server: FakeJobsServer;
  let worker: JobWorker | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    server = fakeJobsServer();
  });
  afterEach(async () => {
    const stopping = worker?.stop({ force: true });
    await vi.runOnlyPendingTimersAsync();
    await stopping;
    worker = undefined;
    vi.useRealTimers();
  });

  it("claims a job of its kinds with a long wait and completes it with the handler's result", async () => {
    const jobId = server.enqueue("k", { input: 21 });
    worker = workerOn(server, {
      apiKey: "secret",
      workerId: "w-1",
      handler: async (job) => ({ doubled: (jobInput(job) as number) * 2 }),
    });
    void worker.start();
    await settle();
    const done = server.job(jobId);
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(jobResult(done)).toEqual({ doubled: 42 });
    const [claim] = server.requests.claimJob;
    expect(claim?.kinds).toEqual(["k"]);
    expect(claim?.workerId).toBe("w-1");
    expect(durationMs(claim!.wait!)).toBe(20_000);
    expect(durationMs(claim!.leaseDuration!)).toBe(30_000);
    expect(new Set(server.authorizations)).toEqual(new Set(["Bearer secret"]));
    // And it waits for the next job with a claim held.
    expect(server.heldClaims()).toBe(1);
  });

  it("takes its next job with each completion while jobs wait, and claims again once none is left", async () => {
    const jobIds = [server.enqueue("k", { input: 1 }), server.enqueue("k", { input: 2 }), server.enqueue("k", { input: 3 })];
    worker = workerOn(server, { workerId: "w-1", handler: async (job) => jobInput(job) });
    void worker.start();
    await settle();
    expect(jobIds.map((id) => server.job(id).state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED]);
    // One claim for the first job, the next two with the completions before them, then a claim held for more.
    expect(server.requests.claimJob).toHaveLength(2);
    expect(server.requests.completeJob.map((request) => request.claimNext?.kinds)).toEqual([["k"], ["k"], ["k"]]);
    expect(server.requests.completeJob[0]?.claimNext?.workerId).toBe("w-1");
    expect(server.heldClaims()).toBe(1);
  });

  it("asks for a next job with a completion's first attempt only: a repeat's lost answer may have held one", async () => {
    const jobId = server.enqueue("k");
    server.enqueue("k");
    let failures = 1;
    server.faults.completeJob = () => {
      if (failures-- > 0) {
        throw new ConnectError("the server went away", Code.Unavailable);
      }
    };
    worker = workerOn(server, { handler: async () => "done" });
    void worker.start();
    await settle();
    await vi.runOnlyPendingTimersAsync();
    await settle();
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
    expect(server.requests.completeJob.slice(0, 2).map((request) => request.claimNext !== undefined)).toEqual([true, false]);
  });

  it("asks for no next job with a completion once it is stopping", async () => {
    const release = deferred();
    server.enqueue("k", { input: 1 });
    server.enqueue("k", { input: 2 });
    worker = workerOn(server, { handler: () => release.promise });
    void worker.start();
    await settle();
    const stopped = worker.stop();
    release.resolve();
    await settle();
    await stopped;
    expect(server.requests.completeJob).toHaveLength(1);
    expect(server.requests.completeJob[0]?.claimNext).toBeUndefined();
  });

  it("gives the handler the attempt, and completes with no result when the handler returns nothing", async () => {
    const jobId = server.enqueue("k");
    const attempts: number[] = [];
    worker = workerOn(server, {
      handler: async (_job, { attempt }) => {
        attempts.push(attempt);
      },
    });
    void worker.start();
    await settle();
    expect(attempts).toEqual([1]);
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
    expect(server.requests.completeJob[0]?.result).toBeUndefined();
  });

  it("completes with a JSON null when the handler returns null", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, { handler: async () => null });
    void worker.start();
    await settle();
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
    expect(jobResult(server.job(jobId))).toBeNull();
  });

  it("fails the attempt with the error's message, retryable, so that the job is claimed again", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, {
      handler: async (_job, { attempt }) => {
        if (attempt === 1) {
          throw new Error("the disk was full");
        }
        return "done";
      },
    });
    void worker.start();
    await settle();
    expect(server.requests.failJob.map(({ errorMessage, retryable }) => ({ errorMessage, retryable }))).toEqual([
      { errorMessage: "the disk was full", retryable: true },
    ]);
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
    expect(server.job(jobId).attempt).toBe(2);
  });

  it("fails the job for good when the handler throws a NonRetryableError", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, {
      handler: async () => {
        throw new NonRetryableError("input must be a URL");
      },
    });
    void worker.start();
    await settle();
    expect(server.requests.failJob.map(({ errorMessage, retryable }) => ({ errorMessage, retryable }))).toEqual([
      { errorMessage: "input must be a URL", retryable: false },
    ]);
    expect(server.job(jobId).state).toBe(JOB_STATUS.ERROR);
    expect(server.job(jobId).errorMessage).toBe("input must be a URL");
  });

  it("fails the job for good when the handler's result is not a JSON value", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, { handler: async () => Number.NaN });
    void worker.start();
    await settle();
    expect(server.requests.completeJob).toEqual([]);
    expect(server.requests.failJob[0]?.retryable).toBe(false);
    expect(server.job(jobId).errorMessage).toMatch(/the handler's result must be a JSON value/);
  });

  it("fails the job for good when the server refuses its result (INVALID_ARGUMENT), instead of leaving it held", async () => {
    const jobId = server.enqueue("k");
    server.faults.completeJob = () => {
      throw new ConnectError("result: 70000 bytes, at most 65536", Code.InvalidArgument);
    };
    worker = workerOn(server, { handler: async () => "x".repeat(70_000) });
    void worker.start();
    await settle();
    expect(server.requests.failJob[0]?.retryable).toBe(false);
    expect(server.job(jobId).state).toBe(JOB_STATUS.ERROR);
    expect(server.job(jobId).errorMessage).toMatch(/refused the result.*at most 65536/);
  });

  it("holds `concurrency` claims while idle, and runs that many jobs at once, no more", async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    let releaseAll = false;
    let runningNow = 0;
    let mostAtOnce = 0;
    worker = workerOn(server, {
      concurrency: 3,
      handler: async (job) => {
        runningNow++;
        mostAtOnce = Math.max(mostAtOnce, runningNow);
        const gate = deferred();
        gates.set(job.id, gate);
        if (releaseAll) {
          gate.resolve();
        }
        await gate.promise;
        runningNow--;
      },
    });
    void worker.start();
    await settle();
    expect(server.heldClaims()).toBe(3);
    const ids = ["k", "k", "k", "k", "k"].map((kind) => server.enqueue(kind));
    await settle();
    expect(worker.running).toBe(3);
    expect(server.leasedJobs()).toEqual(ids.slice(0, 3));
    expect(server.queuedJobs()).toEqual(ids.slice(3));
    expect(server.heldClaims()).toBe(0);
    gates.get(ids[0]!)!.resolve();
    await settle();
    expect(server.job(ids[0]!).state).toBe(JOB_STATUS.COMPLETED);
    expect(server.leasedJobs()).toEqual([ids[1], ids[2], ids[3]]);
    expect(server.queuedJobs()).toEqual([ids[4]]);
    releaseAll = true;
    for (const gate of gates.values()) {
      gate.resolve();
    }
    await settle();
    expect(ids.map((id) => server.job(id).state)).toEqual(Array(5).fill(JOB_STATUS.COMPLETED));
    expect(mostAtOnce).toBe(3);
    expect(server.heldClaims()).toBe(3);
  });

  it("stop() ends the held claims at once, finishes and reports the jobs in hand, and claims no more", async () => {
    const gate = deferred();
    const first = server.enqueue("k");
    worker = workerOn(server, {
      concurrency: 2,
      handler: async () => {
        await gate.promise;
        return "finished";
      },
    });
    const started = worker.start();
    await settle();
    expect(worker.running).toBe(1);
    expect(server.heldClaims()).toBe(1);
    const claims = server.requests.claimJob.length;
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(server.heldClaims()).toBe(0);
    expect(stopped).toBe(false);
    const second = server.enqueue("k");
    gate.resolve();
    await settle();
    await stopping;
    expect(stopped).toBe(true);
    expect(jobResult(server.job(first))).toBe("finished");
    expect(server.queuedJobs()).toEqual([second]);
    expect(server.requests.claimJob).toHaveLength(claims);
    expect(worker.running).toBe(0);
    await expect(started).resolves.toBeUndefined();
  });

  it("stop() is safe to call twice, and before start(); a stopped worker does not start again", async () => {
    worker = workerOn(server, { handler: async () => "x" });
    await worker.stop();
    await worker.stop();
    await expect(worker.start()).resolves.toBeUndefined();
    expect(server.requests.claimJob).toEqual([]);
  });

  it("stop({ force }) aborts the handlers' signals (why: stopping) and still reports how they end", async () => {
    const jobId = server.enqueue("k");
    const reasons: unknown[] = [];
    worker = workerOn(server, {
      handler: (_job, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => {
            reasons.push(signal.reason);
            reject(signal.reason);
          });
        }),
    });
    void worker.start();
    await settle();
    const stopping = worker.stop({ force: true });
    await settle();
    await stopping;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(WorkAbortedError);
    expect((reasons[0] as WorkAbortedError).why).toBe("stopping");
    // Another worker may do it: the attempt failed, retryable.
    expect(server.requests.failJob.map(({ errorMessage, retryable }) => ({ errorMessage, retryable }))).toEqual([
      { errorMessage: "the worker is stopping", retryable: true },
    ]);
    expect(server.queuedJobs()).toEqual([jobId]);
  });

  it("retries failed claims after the retry policy's backoff, past maxRetries, and claims again once the server is back", async () => {
    let failures = 4;
    server.faults.claimJob = () => {
      if (failures-- > 0) {
        throw new ConnectError("down", Code.Unavailable);
      }
    };
    worker = workerOn(server, { maxRetries: 1, handler: async () => "x" });
    const t0 = Date.now();
    void worker.start();
    await settle();
    expect(server.requests.claimJob).toHaveLength(1);
    // random() = 0.5 of caps 200, 400, 800, 1600 ms: pauses of 100, 200, 400 and 800 ms.
    for (const [at, claims] of [
      [99, 1],
      [100, 2],
      [299, 2],
      [300, 3],
      [699, 3],
      [700, 4],
      [1_499, 4],
      [1_500, 5],
    ] as const) {
      await vi.advanceTimersByTimeAsync(at - (Date.now() - t0));
      expect(server.requests.claimJob, `at ${at} ms`).toHaveLength(claims);
    }
    await settle();
    expect(server.heldClaims()).toBe(1);
    const jobId = server.enqueue("k");
    await settle();
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
  });

  it("waits at least the server's hint (retry-after) before claiming again", async () => {
    let failures = 1;
    server.faults.claimJob = () => {
      if (failures-- > 0) {
        throw new ConnectError("slow down", Code.ResourceExhausted, { "retry-after": "3" });
      }
    };
    worker = workerOn(server, { handler: async () => "x" });
    void worker.start();
    await settle();
    // The hint, spread by up to 10% above it: 3_000 × 1.05 with random() = 0.5.
    await vi.advanceTimersByTimeAsync(3_149);
    expect(server.requests.claimJob).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests.claimJob).toHaveLength(2);
  });

  it("stops, telling onError and rejecting start(), when a claim fails in a way retries cannot mend", async () => {
    server.faults.claimJob = () => {
      throw new ConnectError("not a worker key", Code.PermissionDenied);
    };
    const errors: unknown[] = [];
    worker = workerOn(server, { concurrency: 2, onError: (error) => errors.push(error), handler: async () => "x" });
    const started = worker.start();
    await settle();
    const failure = await started.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobClientError);
    expect((failure as JobClientError).code).toBe(Code.PermissionDenied);
    expect(errors).toEqual([failure]);
    // One claim per loop, none retried.
    expect(server.requests.claimJob).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests.claimJob).toHaveLength(2);
  });

  it("leaves no timer running once stop() resolves: not the held claims', the backoff's nor the heartbeats'", async () => {
    const gate = deferred();
    server.enqueue("k");
    // The first claim takes the job; the second fails, and its loop pauses before the next.
    server.faults.claimJob = () => {
      if (server.requests.claimJob.length === 2) {
        throw new ConnectError("down", Code.Unavailable);
      }
    };
    worker = workerOn(server, {
      concurrency: 2,
      handler: async (_job, { progress }) => {
        progress(0.5);
        await gate.promise;
      },
    });
    void worker.start();
    await settle();
    expect(worker.running).toBe(1);
    expect(server.requests.claimJob).toHaveLength(2);
    expect(server.heldClaims()).toBe(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    const stopping = worker.stop();
    await settle();
    gate.resolve();
    await settle();
    await stopping;
    expect(server.requests.claimJob).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves no timer running once stop() ends an idle worker's held claims", async () => {
    worker = workerOn(server, { concurrency: 4, handler: async () => "x" });
    void worker.start();
    await settle();
    expect(server.heldClaims()).toBe(4);
    const stopping = worker.stop();
    await settle();
    await stopping;
    expect(server.heldClaims()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
