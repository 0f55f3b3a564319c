import { fromJson, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS, type Job, POLLING_MODES, type PollingMode } from "../../client/index.js";
import { clientFor, type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";
import { workerClient } from "../support/work-contract.js";

// Scenario "real work": a client creates a job of a kind, a worker claims it, reports progress
// three times and completes it with a result; awaitCompletion, in each mode, shows every
// progress through onUpdate and resolves with the result.

describe.each([POLLING_MODES.LONG, POLLING_MODES.SHORT, POLLING_MODES.STREAM] as PollingMode[])("real work (%s)", (mode) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ shortPollRate: 0, createRate: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("shows the worker's three progress reports through onUpdate and resolves with its result", async () => {
    const kind = `report-${mode}`;
    const { job } = await rawClient(server.url).createJob({ kind, input: fromJson(ValueSchema, { pages: 3 }) });
    const { client } = clientFor(server.url);
    const seen: Job[] = [];
    const awaiting = client.awaitCompletion(job!.id, {
      mode,
      timeoutMs: 30_000,
      pollIntervalMs: 50,
      onUpdate: (update) => seen.push(update),
    });

    const worker = workerClient(server.url);
    const claim = await worker.claimJob({ kinds: [kind], wait: { seconds: 10n } });
    expect(toJson(ValueSchema, claim.job!.input!)).toEqual({ pages: 3 });
    for (const [fraction, message] of [
      [0.3, "page 1"],
      [0.6, "page 2"],
      [0.9, "page 3"],
    ] as const) {
      await worker.heartbeat({ jobId: job!.id, leaseToken: claim.leaseToken, progress: { fraction, message } });
      // The next report only once the client has seen this one: each is its own change.
      await waitUntil(() => seen.some((update) => update.progress?.message === message), {
        what: () => `the client to see "${message}" (seen ${seen.map((update) => update.progress?.message).join(", ")})`,
      });
    }
    await worker.completeJob({ jobId: job!.id, leaseToken: claim.leaseToken, result: fromJson(ValueSchema, { words: 1200 }) });

    const done = await awaiting;
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(toJson(ValueSchema, done.result!)).toEqual({ words: 1200 });
    const progress = seen.map((update) => update.progress?.fraction).filter((fraction) => fraction !== undefined);
    expect([...new Set(progress)]).toEqual([0.3, 0.6, 0.9]);
    expect(seen.map((update) => update.attempt).filter((attempt) => attempt > 0)[0]).toBe(1);
  });
});
