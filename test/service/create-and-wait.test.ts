import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { FULL_RETRY_DELAY_MS } from "../../server/service/refuse-if-full.js";
import type { JobStore } from "../../server/stores/job-store.js";
import { createMemoryJobStore } from "../../server/stores/memory-job-store.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { untilHeld } from "../support/held-count.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { storeWith } from "../support/stores/store-with.js";
import { workerClient } from "../support/work-contract.js";

// CreateJob with a wait: the call that creates a job is held until the job ends (or the wait
// runs out), so starting a job and waiting for it take one call.

const ONE = { kind: { case: "numberValue" as const, value: 1 } };

/** A memory store that counts its reads (get), the round trips a held create should not make. */
function countingStore(): { store: JobStore; reads: () => number } {
  const inner = createMemoryJobStore();
  let reads = 0;
  const get: JobStore["get"] = (id) => {
    reads++;
    return inner.get(id);
  };
  return { store: storeWith(inner, { get }), reads: () => reads };
}

describe("CreateJob with a wait", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers with the job once its worker has completed it, result included, without reading it", async () => {
    const counting = countingStore();
    server = await startServer({ store: counting.store, createRate: 0, shortPollRate: 0 });
    const created = rawClient(server.url).createJob({ kind: "create.wait", input: ONE, wait: { seconds: 30n } });
    const claim = await workerClient(server.url).claimJob({ kinds: ["create.wait"], wait: { seconds: 30n } });
    await workerClient(server.url).completeJob({ jobId: claim.job!.id, leaseToken: claim.leaseToken, result: ONE });
    const { job } = await created;
    expect(job).toMatchObject({ id: claim.job!.id, state: JobState.COMPLETED, result: ONE });
    // Heard from before it was stored: neither the create nor its wait read the job.
    expect(counting.reads()).toBe(0);
    await counting.store.close();
  });

  it("is not answered by the worker's progress, only by the job's end", async () => {
    const heldWaits = new HeldWaits();
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
    const created = rawClient(server.url).createJob({ kind: "create.wait", input: ONE, wait: { seconds: 30n } });
    const claim = await workerClient(server.url).claimJob({ kinds: ["create.wait"], wait: { seconds: 30n } });
    await untilHeld(heldWaits, 1);
    const jobId = claim.job!.id;
    await workerClient(server.url).heartbeat({ jobId, leaseToken: claim.leaseToken, progress: { fraction: 0.5 } });
    // A long wait from the claimed version is answered by the progress: the proof that it landed.
    const progressed = await rawClient(server.url).getStatus({ jobId, wait: { seconds: 30n }, knownVersion: 2n });
    expect(progressed.job?.progress?.fraction).toBe(0.5);
    // Both waits heard the progress; the long wait let go before it answered, the create did not.
    expect(heldWaits.size).toBe(1);
    await workerClient(server.url).failJob({ jobId, leaseToken: claim.leaseToken, errorMessage: "no" });
    expect((await created).job).toMatchObject({ state: JobState.ERROR, errorMessage: "no" });
  });

  it("answers with the job as it is when the wait runs out, the job still there", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({
      processingDuration: { seconds: 3_600n },
      wait: { nanos: 200_000_000 },
    });
    expect(job).toMatchObject({ state: JobState.PENDING, version: 1n });
    const status = await rawClient(server.url).getStatus({ jobId: job!.id });
    expect(status.job?.state).toBe(JobState.PENDING);
  });

  it("answers before the caller's deadline, with the job pending, when the deadline is shorter than the wait", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const { job, nextPollAfter } = await rawClient(server.url).createJob(
      { processingDuration: { seconds: 3_600n }, wait: { seconds: 30n } },
      { timeoutMs: 600 },
    );
    expect(job).toMatchObject({ state: JobState.PENDING, version: 1n });
    expect(nextPollAfter).toBeUndefined();
  });

  it("holds no longer than MAX_WAIT, however long the wait asked", async () => {
    server = await startServer({ maxWaitMs: 200, createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n }, wait: { seconds: 3_600n } });
    expect(job?.state).toBe(JobState.PENDING);
  });

  it("answers at once for a repeated request_id whose job has ended, with the job as it is", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const requestId = crypto.randomUUID();
    const first = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n }, requestId });
    await rawClient(server.url).cancelJob({ jobId: first.job!.id });
    const again = await rawClient(server.url).createJob({
      processingDuration: { seconds: 3_600n },
      requestId,
      wait: { seconds: 30n },
    });
    expect(again.job).toMatchObject({ id: first.job!.id, state: JobState.CANCELLED });
  });

  it("waits on a repeated request_id's pending job until it ends", async () => {
    const heldWaits = new HeldWaits();
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
    const requestId = crypto.randomUUID();
    const first = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n }, requestId });
    const again = rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n }, requestId, wait: { seconds: 30n } });
    await untilHeld(heldWaits, 1);
    await rawClient(server.url).cancelJob({ jobId: first.job!.id });
    expect((await again).job).toMatchObject({ id: first.job!.id, state: JobState.CANCELLED });
  });

  it("refuses a negative wait before creating anything", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const refused = await rawClient(server.url)
      .createJob({ processingDuration: { seconds: 1n }, wait: { seconds: -1n } })
      .catch((error: unknown) => ConnectError.from(error));
    expect(refused).toMatchObject({ code: Code.InvalidArgument, rawMessage: "wait must not be negative" });
    expect((await rawClient(server.url).listJobs({})).jobs).toEqual([]);
  });

  it("answers at once, with the created job, when the caller holds as many waits as it may", async () => {
    const heldWaits = new HeldWaits({ maxPerCaller: 1 });
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
    const { job: first } = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n } });
    const holding = rawClient(server.url).getStatus({ jobId: first!.id, wait: { seconds: 30n }, knownVersion: 1n });
    await untilHeld(heldWaits, 1);
    const { job, nextPollAfter } = await rawClient(server.url).createJob({
      processingDuration: { seconds: 3_600n },
      wait: { seconds: 30n },
    });
    expect(job).toMatchObject({ state: JobState.PENDING, version: 1n });
    // Not at once: a GetStatus long wait would be refused as the create's hold was.
    expect(nextPollAfter).toEqual(durationFromMs(FULL_RETRY_DELAY_MS));
    await rawClient(server.url).cancelJob({ jobId: first!.id });
    await holding;
  });

  it("is released by the server closing, with the job pending and kept", async () => {
    const heldWaits = new HeldWaits();
    const store = createMemoryJobStore();
    server = await startServer({ store, heldWaits, createRate: 0, shortPollRate: 0 });
    const created = rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n }, wait: { seconds: 30n } });
    await untilHeld(heldWaits, 1);
    await server.close();
    server = undefined;
    const { job, nextPollAfter } = await created;
    expect(job?.state).toBe(JobState.PENDING);
    expect(nextPollAfter).toBeDefined();
    expect((await store.get(job!.id))?.job.state).toBe(JobState.PENDING);
    await store.close();
  });
});
