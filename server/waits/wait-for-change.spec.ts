import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { newJobId } from "../service/job-id.js";
import type { JobStore } from "../stores/job-store.js";
import { createMemoryJobStore } from "../stores/memory-job-store.js";
import { HeldWaits } from "./held-waits.js";
import { presenceOfSignal } from "./presence.js";
import { type WaitForChangeOptions, waitForChange } from "./wait-for-change.js";

describe("waitForChange", () => {
  let store: JobStore;
  beforeEach(() => {
    store = createMemoryJobStore();
  });
  afterEach(async () => {
    await store.close();
  });

  async function pendingJob() {
    const job = create(JobSchema, { id: newJobId(), state: JobState.PENDING, version: 1n });
    await store.create(job, "");
    return job;
  }

  function options(overrides: Partial<WaitForChangeOptions> = {}): WaitForChangeOptions {
    return {
      holdMs: 5_000,
      presence: presenceOfSignal(new AbortController().signal),
      heldWaits: new HeldWaits(),
      caller: "a",
      ...overrides,
    };
  }

  it('resolves "changed" with the new job when it changes', async () => {
    const job = await pendingJob();
    const waiting = waitForChange(store, job, 1n, options());
    await store.finish(job.id, { state: JobState.COMPLETED, at: Date.now() });
    const { job: latest, end } = await waiting;
    expect(end).toBe("changed");
    expect(latest.version).toBe(2n);
  });

  it('resolves "timed-out" with the unchanged job after holdMs', async () => {
    const job = await pendingJob();
    await expect(waitForChange(store, job, 1n, options({ holdMs: 20 }))).resolves.toMatchObject({
      end: "timed-out",
      job: { version: 1n },
    });
  });

  it('resolves "caller-left" when the caller leaves, before or during the wait', async () => {
    const job = await pendingJob();
    const controller = new AbortController();
    const waiting = waitForChange(store, job, 1n, options({ presence: presenceOfSignal(controller.signal) }));
    controller.abort();
    await expect(waiting).resolves.toMatchObject({ end: "caller-left" });
    await expect(
      waitForChange(store, job, 1n, options({ presence: presenceOfSignal(controller.signal) })),
    ).resolves.toMatchObject({ end: "caller-left" });
  });

  it("resolves with the release reason when the registry releases the wait", async () => {
    const job = await pendingJob();
    const heldWaits = new HeldWaits({ maxTotal: 1 });
    const first = waitForChange(store, job, 1n, options({ heldWaits }));
    const second = waitForChange(store, job, 1n, options({ heldWaits }));
    await expect(first).resolves.toMatchObject({ end: "evicted", job: { version: 1n } });
    heldWaits.releaseAll();
    await expect(second).resolves.toMatchObject({ end: "closing", job: { version: 1n } });
    await expect(waitForChange(store, job, 1n, options({ heldWaits }))).resolves.toMatchObject({ end: "closing" });
  });
});
