import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { workerClient } from "../support/work-contract.js";

// GetStatus with until_terminal: a long wait that only the job's end answers (or its wait running
// out), however often the job changes before; the client's awaitCompletion without onUpdate
// follows a job with such waits.

describe("a long wait until the job's end", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("is not answered by the job's changes, only by its end", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const url = server.url;
    const { job } = await rawClient(url).createJob({ kind: "until.end", input: { kind: { case: "numberValue", value: 1 } } });
    const jobId = job!.id;
    let endAnswered = false;
    const untilEnd = rawClient(url)
      .getStatus({ jobId, wait: { seconds: 30n }, untilTerminal: true })
      .finally(() => {
        endAnswered = true;
      });
    // A plain long wait beside it, answered by the first change: the proof that the job changed
    // while the wait until its end was held.
    const anyChange = rawClient(url).getStatus({ jobId, wait: { seconds: 30n }, knownVersion: 1n });
    const claim = await workerClient(url).claimJob({ kinds: ["until.end"] });
    expect((await anyChange).job).toMatchObject({ version: 2n, held: true });
    await workerClient(url).heartbeat({ jobId, leaseToken: claim.leaseToken, progress: { fraction: 0.5 } });
    const progressed = await rawClient(url).getStatus({ jobId, wait: { seconds: 30n }, knownVersion: 2n });
    expect(progressed.job?.progress?.fraction).toBe(0.5);
    expect(endAnswered).toBe(false);
    await workerClient(url).completeJob({ jobId, leaseToken: claim.leaseToken });
    expect((await untilEnd).job).toMatchObject({ state: JobState.COMPLETED, version: 4n });
  });

  it("answers at once for a job that has ended, and with the job as it is when the wait runs out", async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n } });
    const ranOut = await rawClient(server.url).getStatus({ jobId: job!.id, wait: { nanos: 200_000_000 }, untilTerminal: true });
    expect(ranOut.job).toMatchObject({ state: JobState.PENDING, version: 1n });
    await rawClient(server.url).cancelJob({ jobId: job!.id });
    const ended = await rawClient(server.url).getStatus({ jobId: job!.id, wait: { seconds: 30n }, untilTerminal: true });
    expect(ended.job?.state).toBe(JobState.CANCELLED);
  });
});
