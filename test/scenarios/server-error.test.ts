import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { JOB_STATUS, POLLING_MODES, ServerError } from "../../client/index.js";
import { seededRandom } from "../support/seeded-random.js";
import { clientFor, postJson, type RunningServer, startServer } from "../support/start-server.js";

// Scenario "server-error": the server fails a share of calls with UNAVAILABLE or INTERNAL
// (FAULT_RATE). The client retries them with backoff and still follows the job to its end;
// when every call fails it gives up with ServerError after its retries.

const fastRetries = { initialDelayMs: 10, maxDelayMs: 100, multiplier: 2 };

describe("server errors", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers injected faults as UNAVAILABLE (503) or INTERNAL (500)", async () => {
    server = await startServer({ faultRate: 1, random: seededRandom(1) });
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const answer = await postJson(server.url, "CreateJob", { processingDuration: "1s" });
      statuses.add(answer.status);
      expect(["unavailable", "internal"]).toContain(answer.body.code);
    }
    expect([...statuses].sort()).toEqual([500, 503]);
  });

  for (const mode of [POLLING_MODES.LONG, POLLING_MODES.SHORT]) {
    it(`completes the job through half of all calls failing, in ${mode} mode`, async () => {
      server = await startServer({ faultRate: 0.5, random: seededRandom(7), shortPollRate: 0 });
      const { client, counter } = clientFor(server.url, { retry: fastRetries, maxRetries: 8 });
      const job = await client.createJob({ processingDurationMs: 800 });
      const done = await client.awaitCompletion(job.id, { mode, pollIntervalMs: 100, timeoutMs: 10_000 });
      expect(done.state).toBe(JOB_STATUS.COMPLETED);
      const failures = (counter.failures.get(Code.Unavailable) ?? 0) + (counter.failures.get(Code.Internal) ?? 0);
      expect(failures).toBeGreaterThan(0);
    });
  }

  it("retries a failed create (INTERNAL too, as it carries a request_id) and ends with one job", async () => {
    // The injector draws twice per failed call (fail?, which code?) and once per passing call.
    const draws = [0.1, 0.9, 0.1, 0.2];
    server = await startServer({ faultRate: 0.5, random: () => draws.shift() ?? 0.9 });
    const { client, counter } = clientFor(server.url, { retry: fastRetries });
    const job = await client.createJob({ processingDurationMs: 100 });
    expect(counter.failures.get(Code.Internal)).toBe(1);
    expect(counter.failures.get(Code.Unavailable)).toBe(1);
    expect(counter.total("CreateJob")).toBe(3);
    const { jobs } = await client.listJobs();
    expect(jobs.map((listed) => listed.id)).toEqual([job.id]);
  });

  it("gives up with ServerError carrying the code once retries run out", async () => {
    server = await startServer({ faultRate: 1, random: seededRandom(5) });
    const { client, counter } = clientFor(server.url, { retry: fastRetries, maxRetries: 3 });
    const error = await client.createJob({ processingDurationMs: 100 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect([Code.Unavailable, Code.Internal]).toContain((error as ServerError).code);
    expect(counter.total("CreateJob")).toBe(4);
  });
});
