import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JOB_STATUS, JobClient, JobWorker, type JobWorkerOptions, WorkAbortedError } from "../../client/index.js";
import { type FakeJobsServer, fakeJobsServer, settle } from "./fake-jobs-server.js";

// A JobWorker's leases, on fake timers against the in-process fake (which lets a lease run out
// on its clock): heartbeats, progress carried by them, and the handler's signal aborting on a
// cancel or a lost lease.

/** A worker on `server` doing kind "k" with 3 s leases: a heartbeat every second. */
function workerOn(server: FakeJobsServer, options: Partial<JobWorkerOptions> & Pick<JobWorkerOptions, "handler">): JobWorker {
  return new JobWorker({ transport: server.transport, kinds: ["k"], leaseMs: 3_000, random: () => 0.5, ...options });
}

/** A handler that runs until its signal aborts, then returns anyway; records the reason. */
function untilAborted(reasons: unknown[]): JobWorkerOptions["handler"] {
  return (_job, { signal }) =>
    new Promise((resolve) => {
      signal.addEventListener("abort", () => {
        reasons.push(signal.reason);
        resolve("a result nobody asked for");
      });
    });
}

/** Resolves after `ms` of fake time. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("JobWorker leases", () => {
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

  it("sends a heartbeat every leaseMs / 3, which keeps the lease of a job longer than it", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, {
      handler: async () => {
        await pause(10_000);
        return "slow but done";
      },
    });
    void worker.start();
    await settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(server.requests.heartbeat).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests.heartbeat).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests.heartbeat).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(8_000);
    await settle();
    // Without them the fake would have taken the lease back at 3 s and refused CompleteJob.
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
    expect(server.requests.heartbeat.length).toBeGreaterThanOrEqual(9);
    expect(server.requests.heartbeat.every((beat) => beat.progress === undefined)).toBe(true);
  });

  it("sends progress with an early heartbeat: the latest report only, then at most one per 250 ms", async () => {
    const jobId = server.enqueue("k");
    worker = workerOn(server, {
      leaseMs: 30_000,
      handler: async (_job, { progress }) => {
        progress(0.1);
        progress(0.2);
        progress(0.3, "third");
        await pause(10);
        progress(0.4, "fourth");
        progress(0.5, "fifth");
        await pause(60_000);
      },
    });
    void worker.start();
    await settle();
    const sent = () => server.requests.heartbeat.map((beat) => beat.progress && [beat.progress.fraction, beat.progress.message]);
    expect(sent()).toEqual([[0.3, "third"]]);
    expect(server.job(jobId).progress?.fraction).toBe(0.3);
    await vi.advanceTimersByTimeAsync(249);
    expect(sent()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toEqual([
      [0.3, "third"],
      [0.5, "fifth"],
    ]);
    expect(server.job(jobId).progress?.message).toBe("fifth");
    // Nothing new to say: the next is the regular heartbeat, 10 s after the last one, without progress.
    await vi.advanceTimersByTimeAsync(9_999);
    expect(sent()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent()).toEqual([[0.3, "third"], [0.5, "fifth"], undefined]);
  });

  it("refuses a progress fraction outside 0..1 with a RangeError, and cuts messages to 256 characters", async () => {
    const thrown: unknown[] = [];
    server.enqueue("k");
    worker = workerOn(server, {
      handler: async (_job, { progress }) => {
        for (const fraction of [-0.1, 1.5, Number.NaN]) {
          try {
            progress(fraction);
          } catch (error) {
            thrown.push(error);
          }
        }
        progress(1, "x".repeat(300));
        await pause(10);
      },
    });
    void worker.start();
    await settle();
    expect(thrown).toHaveLength(3);
    expect(thrown.every((error) => error instanceof RangeError)).toBe(true);
    expect(server.requests.heartbeat[0]?.progress?.message).toHaveLength(256);
  });

  it("aborts the handler's signal (why: cancelled) when a heartbeat answers cancel_requested, and reports nothing", async () => {
    const jobId = server.enqueue("k");
    const next = server.enqueue("k");
    const reasons: unknown[] = [];
    let calls = 0;
    worker = workerOn(server, {
      handler: (job, context) => (++calls === 1 ? untilAborted(reasons)(job, context) : "second"),
    });
    void worker.start();
    await settle();
    await new JobClient({ transport: server.transport }).cancelJob(jobId);
    expect(reasons).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(WorkAbortedError);
    expect((reasons[0] as WorkAbortedError).why).toBe("cancelled");
    expect(server.job(jobId).state).toBe(JOB_STATUS.CANCELLED);
    expect(server.requests.completeJob.map((request) => request.jobId)).toEqual([next]);
    expect(server.requests.failJob).toEqual([]);
  });

  it("aborts the handler's signal (why: lease-lost) when the server refuses the lease, and reports nothing", async () => {
    const jobId = server.enqueue("k");
    const reasons: unknown[] = [];
    worker = workerOn(server, { handler: untilAborted(reasons) });
    void worker.start();
    await settle();
    server.loseLease(jobId);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect((reasons[0] as WorkAbortedError).why).toBe("lease-lost");
    expect((reasons[0] as WorkAbortedError).cause).toMatchObject({ code: Code.FailedPrecondition });
    expect(server.requests.completeJob).toEqual([]);
    expect(server.requests.failJob).toEqual([]);
  });

  it("aborts the handler's signal (why: lease-lost) once heartbeats have failed until the lease ran out", async () => {
    server.enqueue("k");
    server.faults.heartbeat = () => {
      throw new ConnectError("down", Code.Unavailable);
    };
    const reasons: unknown[] = [];
    worker = workerOn(server, { maxRetries: 100, handler: untilAborted(reasons) });
    void worker.start();
    await settle();
    await vi.advanceTimersByTimeAsync(2_990);
    expect(reasons).toEqual([]);
    expect(server.requests.heartbeat.length).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as WorkAbortedError).why).toBe("lease-lost");
    await settle();
    expect(server.requests.completeJob).toEqual([]);
    expect(server.requests.failJob).toEqual([]);
  });

  it("keeps the lease through a heartbeat that fails once", async () => {
    const jobId = server.enqueue("k");
    let failures = 1;
    server.faults.heartbeat = () => {
      if (failures-- > 0) {
        throw new ConnectError("down", Code.Unavailable);
      }
    };
    worker = workerOn(server, {
      handler: async () => {
        await pause(5_000);
        return "done";
      },
    });
    void worker.start();
    await settle();
    await vi.advanceTimersByTimeAsync(5_000);
    await settle();
    expect(server.job(jobId).state).toBe(JOB_STATUS.COMPLETED);
  });
});
