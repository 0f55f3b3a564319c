import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS } from "../../client/index.js";
import { untilHeld } from "../support/held-count.js";
import { postJson, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// GetStatus with wait > 0 on the wire: held until the job changes, answered unchanged (never
// an error) at the earliest of the wait, MAX_WAIT and the caller's deadline less a margin.

describe("GetStatus long waits", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ maxWaitMs: 2_000 });
  });
  afterAll(async () => {
    await server.close();
  });

  async function createJob(seconds: number): Promise<{ id: string }> {
    const answer = await postJson(server.url, "CreateJob", { processingDuration: `${seconds}s` });
    expect(answer.status).toBe(200);
    return answer.body.job as { id: string };
  }

  it("wakes a held wait when its job ends and answers COMPLETED (curl's request, Connect JSON)", async () => {
    const job = await createJob(1);
    const answer = await postJson(server.url, "GetStatus", { jobId: job.id, wait: "10s", knownVersion: "1" });
    const done = answer.body.job as { state: string; updateTime: string; version: string };
    expect(answer.status).toBe(200);
    // Not woken, the wait would have run out at MAX_WAIT (2 s) with the job as it was, PENDING.
    // How soon the wake comes is a figure for bench/ (wake_delay_seconds), not a test.
    expect(done.state).toBe("JOB_STATE_COMPLETED");
    expect(done.version).toBe("2");
  });

  it("answers HTTP 200 with the unchanged job before a caller deadline shorter than the wait", async () => {
    const job = await createJob(10);
    const started = Date.now();
    const answer = await postJson(
      server.url,
      "GetStatus",
      { jobId: job.id, wait: "10s", knownVersion: "1" },
      { "connect-timeout-ms": "1900" },
    );
    const elapsed = Date.now() - started;
    expect(answer.status).toBe(200);
    expect((answer.body.job as { state: string }).state).toBe("JOB_STATE_PENDING");
    expect(answer.body.nextPollAfter).toBe("0s");
    // Held until a tenth of the deadline (190 ms) before it, not answered at once; before the
    // deadline is the behaviour, and its margin is the server's own, which the answer must keep
    // (the deadline is below MAX_WAIT, so it is the deadline that ends this wait).
    expect(elapsed).toBeGreaterThanOrEqual(1_600);
    expect(elapsed).toBeLessThan(1_900);
  });

  it("answers the same way to a gRPC-style deadline from a Connect client (timeoutMs)", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 10n } });
    // The client enforces its deadline itself: an answer after it would reject with
    // DEADLINE_EXCEEDED, so the reply is the evidence that it came before.
    const reply = await raw.getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n }, { timeoutMs: 1_900 });
    expect(reply.job?.state).toBe(JOB_STATUS.PENDING);
    expect(durationMs(reply.nextPollAfter!)).toBe(0);
  });

  it("clamps a wait longer than MAX_WAIT and answers unchanged at MAX_WAIT", async () => {
    const job = await createJob(10);
    const started = Date.now();
    const answer = await postJson(server.url, "GetStatus", { jobId: job.id, wait: "3600s", knownVersion: "1" });
    const elapsed = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(1_950);
    // Not the hour asked for: a generous bound, as a loaded machine keeps, still tells the two apart.
    expect(elapsed).toBeLessThan(10_000);
  });

  it("answers at once when known_version is not the job's version", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 10n } });
    for (const knownVersion of [0n, 7n]) {
      const reply = await raw.getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion });
      expect(reply.job?.version).toBe(1n);
      // A short poll's hint: a wait that was held and ran out would say "ask again at once" (0 s).
      expect(durationMs(reply.nextPollAfter!)).toBeGreaterThan(0);
    }
  });

  it("answers a short poll with a next_poll_after hint, and a terminal job without one", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 0n } });
    const done = await raw.getStatus({ jobId: job!.id, wait: { seconds: 5n }, knownVersion: 1n });
    expect(done.job?.state).toBe(JOB_STATUS.COMPLETED);
    expect(done.nextPollAfter).toBeUndefined();
    const longJob = await raw.createJob({ processingDuration: { seconds: 10n } });
    const hinted = await raw.getStatus({ jobId: longJob.job!.id });
    expect(durationMs(hinted.nextPollAfter!)).toBeGreaterThan(0);
  });

  it("sets the estimated completion time to create time plus the processing duration", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 3n, nanos: 500_000_000 } });
    expect(timestampMs(job!.estimatedCompletionTime!) - timestampMs(job!.createTime!)).toBe(3_500);
  });
});

describe("held waits per caller", () => {
  it("refuses a caller's long wait or watch past MAX_WAITS_PER_CALLER with RESOURCE_EXHAUSTED and RetryInfo", async () => {
    const server = await startServer({ maxWaitsPerCaller: 2 });
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const controller = new AbortController();
      const held = [1, 2].map(() =>
        raw
          .getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal })
          .catch(() => undefined),
      );
      await untilHeld(server.url, 2);

      const refused = await postJson(server.url, "GetStatus", { jobId: job!.id, wait: "20s", knownVersion: "1" });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe("resource_exhausted");
      expect((refused.body.details as { type: string }[])[0]?.type).toBe("google.rpc.RetryInfo");
      const watch = raw.watchJob({ jobId: job!.id, knownVersion: 1n });
      await expect(watch[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.ResourceExhausted });

      controller.abort();
      await Promise.all(held);
      // The server has seen both callers leave: the caller may hold a wait again.
      await untilHeld(server.url, 0);
      const reply = await raw.getStatus({ jobId: job!.id, wait: { nanos: 100_000_000 }, knownVersion: 1n });
      expect(reply.job?.version).toBe(1n);
    } finally {
      await server.close();
    }
  });
});
