import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS, type Job, POLLING_MODES } from "../../client/index.js";
import { clientFor, type RunningServer, startServer } from "../support/start-server.js";

// Scenario "long-polling": awaitCompletion in LONG mode (the default) follows a job to its end
// with held requests that the server answers the moment the job changes.

describe("long polling", () => {
  let server: RunningServer;
  let shortWaitServer: RunningServer;
  beforeAll(async () => {
    server = await startServer();
    shortWaitServer = await startServer({ maxWaitMs: 300 });
  });
  afterAll(async () => {
    await server.close();
    await shortWaitServer.close();
  });

  it("resolves with the COMPLETED job within 100 ms of its end, with one long wait (until its end)", async () => {
    const { client, counter } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 1_500 });
    expect(job.state).toBe(JOB_STATUS.PENDING);

    const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.LONG, timeoutMs: 10_000 });
    const resolvedAt = Date.now();

    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(done.id).toBe(job.id);
    expect(resolvedAt - timestampMs(done.updateTime!)).toBeLessThan(100);
    // No onUpdate: the end is all that is wanted, and the first call is a wait until it.
    expect(counter.total("GetStatus")).toBe(1);
  });

  it("reports each new version to onUpdate, the first read included", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 300 });
    const seen: Job[] = [];
    await client.awaitCompletion(job.id, { onUpdate: (update) => seen.push(update) });
    expect(seen.map((update) => [update.version, update.state])).toEqual([
      [1n, JOB_STATUS.PENDING],
      [2n, JOB_STATUS.COMPLETED],
    ]);
  });

  it("waits again when a long wait ends unchanged at the server's MAX_WAIT", async () => {
    const { client, counter } = clientFor(shortWaitServer.url);
    const job = await client.createJob({ processingDurationMs: 1_000 });
    const done = await client.awaitCompletion(job.id, { timeoutMs: 10_000 });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    // One wait per 300 ms of the job's second, then the wait that sees the end.
    expect(counter.total("GetStatus")).toBeGreaterThanOrEqual(3);
    expect(counter.total("GetStatus")).toBeLessThanOrEqual(5);
    expect(counter.failures.size).toBe(0);
  });
});
