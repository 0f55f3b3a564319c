import { Code } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { rejection } from "../support/rejection.js";
import { clientFor, type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { workerClient } from "../support/work-contract.js";

const CLIENT_KEY = "client-key-0123456789";
const OTHER_CLIENT_KEY = "other-client-key-0123";
const WORKER_KEY = "worker-key-0123456789";

describe("worker keys (WORKER_KEYS)", () => {
  let server: RunningServer;
  const jobsAs = (key: string) => rawClient(server.url, key);
  beforeEach(async () => {
    server = await startServer({ apiKeys: [CLIENT_KEY, OTHER_CLIENT_KEY], workerKeys: [WORKER_KEY], createRate: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  it("lets a worker key claim and complete the jobs of every client, and a client see its own job end", async () => {
    const mine = clientFor(server.url, { apiKey: CLIENT_KEY }).client;
    const one = (await jobsAs(CLIENT_KEY).createJob({ kind: "keys" })).job!;
    const two = (await jobsAs(OTHER_CLIENT_KEY).createJob({ kind: "keys" })).job!;
    const worker = workerClient(server.url, WORKER_KEY);
    const claimed = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const claim = await worker.claimJob({ kinds: ["keys"], wait: { seconds: 5n } });
      claimed.add(claim.job!.id);
      await worker.completeJob({ jobId: claim.job!.id, leaseToken: claim.leaseToken });
    }
    expect(claimed).toEqual(new Set([one.id, two.id]));
    expect((await mine.getStatus(one.id)).job.state).toBe(JobState.COMPLETED);
  });

  it("refuses WorkerService to a client's key, and JobService to a worker key, with PERMISSION_DENIED", async () => {
    const asClient = await rejection(workerClient(server.url, CLIENT_KEY).claimJob({ kinds: ["keys"] }));
    expect(asClient.code).toBe(Code.PermissionDenied);
    expect(asClient.rawMessage).toMatch(/WORKER_KEYS/);
    const asWorker = await rejection(jobsAs(WORKER_KEY).listJobs({}));
    expect(asWorker.code).toBe(Code.PermissionDenied);
    expect(asWorker.rawMessage).toMatch(/worker key/);
    // The lean GetStatus path applies the same policy.
    const status = await rejection(jobsAs(WORKER_KEY).getStatus({ jobId: "AAAAAAAAAAAAAAAAAAAAAA" }));
    expect(status.code).toBe(Code.PermissionDenied);
  });

  it("refuses WorkerService without a key with UNAUTHENTICATED", async () => {
    expect((await rejection(workerClient(server.url).claimJob({ kinds: ["keys"] }))).code).toBe(Code.Unauthenticated);
  });
});
