import { durationMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS, POLLING_MODES } from "../../client/index.js";
import { clientFor, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// Scenario "short-polling": awaitCompletion in SHORT mode checks the job at an interval, paced
// by the larger of that interval and the server's next_poll_after hint.

describe("short polling", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ shortPollRate: 5 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("resolves with the COMPLETED job, polling at the interval given", async () => {
    const { client, counter } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 1_200 });
    const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.SHORT, pollIntervalMs: 500, timeoutMs: 10_000 });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    // About one poll per 500 ms (plus the first read), none of them refused.
    expect(counter.total("GetStatus")).toBeGreaterThanOrEqual(3);
    expect(counter.total("GetStatus")).toBeLessThanOrEqual(5);
    expect(counter.failures.size).toBe(0);
  });

  it("tells short pollers when to ask again, never sooner than the rate limit allows", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 5n } });
    const reply = await raw.getStatus({ jobId: job!.id });
    // 5 polls per second per caller: hints stay at or above twice the 200 ms interval.
    expect(durationMs(reply.nextPollAfter!)).toBeGreaterThanOrEqual(400);
    expect(durationMs(reply.nextPollAfter!)).toBeLessThanOrEqual(1_000);
  });

  it("follows the server's hint over a shorter interval, so it is never rate limited", async () => {
    const { client, counter } = clientFor(server.url, { maxRetries: 0 });
    const job = await client.createJob({ processingDurationMs: 1_500 });
    const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.SHORT, pollIntervalMs: 10, timeoutMs: 10_000 });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(counter.failures.size).toBe(0);
    // Paced at >= 400 ms by the hint instead of every 10 ms.
    expect(counter.total("GetStatus")).toBeLessThanOrEqual(6);
  });
});
