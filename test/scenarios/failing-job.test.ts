import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS, POLLING_MODES } from "../../client/index.js";
import { SIMULATED_ERROR_MESSAGE } from "../../server/stores/job-runner.js";
import { clientFor, type RunningServer, startServer } from "../support/start-server.js";

// Scenario "failing-job": a job created with should_error ends in ERROR; awaitCompletion
// resolves with it (the job failed, not the call), carrying the job's error message.

describe("failing job", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  for (const mode of [POLLING_MODES.LONG, POLLING_MODES.SHORT]) {
    it(`resolves with the ERROR job and its message in ${mode} mode`, async () => {
      const { client } = clientFor(server.url);
      const job = await client.createJob(400, true);
      expect(job.shouldError).toBe(true);
      const done = await client.awaitCompletion(job.id, { mode, pollIntervalMs: 200, timeoutMs: 10_000 });
      expect(done.state).toBe(JOB_STATUS.ERROR);
      expect(done.errorMessage).toBe(SIMULATED_ERROR_MESSAGE);
      expect(done.version).toBe(2n);
    });
  }

  it("reports the failed job to getStatus with no next_poll_after (it will not change again)", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 0, shouldError: true });
    await client.awaitCompletion(job.id);
    const { job: failed, nextPollAfterMs } = await client.getStatus(job.id);
    expect(failed.state).toBe(JOB_STATUS.ERROR);
    expect(nextPollAfterMs).toBeUndefined();
  });
});
