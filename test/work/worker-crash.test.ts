import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { deleteKeys, findRedis } from "../support/redis.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { rawClient } from "../support/start-server.js";
import { workerClient } from "../support/work-contract.js";

// A worker killed mid-job (SIGKILL: no goodbye) loses its lease; another worker finishes the job
// on its second attempt, and nothing runs to completion twice. On Redis the instance the dead
// worker spoke to dies too, and a worker of the other instance takes the job.

const HANGING_WORKER = fileURLToPath(new URL("../support/hanging-worker.mjs", import.meta.url));
const redisUrl = await findRedis();

/** Starts the hanging worker and resolves with it once it has claimed a job. */
async function hangingWorker(url: string, kind: string): Promise<{ child: ChildProcess; jobId: string }> {
  const child = spawn(process.execPath, [HANGING_WORKER, url, kind], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const jobId = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /claimed (\S+)/.exec(output);
      if (match !== null) {
        resolve(match[1] as string);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`the worker exited (${code}) before claiming: ${output}`)));
  });
  return { child, jobId };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

describe.each([
  { store: "memory", env: {} as Record<string, string> },
  ...(redisUrl === undefined
    ? []
    : [{ store: "redis", env: { JOB_STORE: "redis", REDIS_URL: redisUrl, REDIS_PREFIX: `jobs-test:${randomUUID()}:` } }]),
])("a worker killed mid-job ($store)", ({ store, env }) => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop("SIGKILL")));
    if (env.REDIS_PREFIX !== undefined) {
      await deleteKeys(redisUrl as string, env.REDIS_PREFIX);
    }
  });

  it("has its job finished by another worker after the lease, attempt 2, once", async () => {
    const settings = { ...env, LEASE_CHECK_INTERVAL: "200ms", CREATE_RATE: "0" };
    const a = await spawnServer(settings);
    servers.push(a);
    // On Redis, the survivor is another instance; on memory, the one instance there is.
    const b = store === "redis" ? await spawnServer(settings) : a;
    if (b !== a) {
      servers.push(b);
    }
    const kind = `crash-${randomUUID().slice(0, 8)}`;
    const { job } = await rawClient(a.url).createJob({ kind });
    const dead = await hangingWorker(a.url, kind);
    expect(dead.jobId).toBe(job!.id);
    const held = await rawClient(b.url).getStatus({ jobId: job!.id });
    expect(held.job).toMatchObject({ state: JobState.PENDING, attempt: 1 });
    await killed(dead.child);
    if (b !== a) {
      await a.stop("SIGKILL");
    }
    // The lease (2 s) runs out with no heartbeat; the survivor's worker gets the job.
    const claim = await workerClient(b.url).claimJob({ kinds: [kind], wait: { seconds: 20n } });
    expect(claim.job).toMatchObject({ id: job!.id, attempt: 2 });
    const done = await workerClient(b.url).completeJob({ jobId: job!.id, leaseToken: claim.leaseToken });
    expect(done.job).toMatchObject({ state: JobState.COMPLETED, attempt: 2 });
    // Nothing left to run a second time.
    expect((await workerClient(b.url).claimJob({ kinds: [kind], wait: { seconds: 3n } })).job).toBeUndefined();
  });
});

describe.skipIf(redisUrl === undefined)("an instance that dies while its workers hold leases (redis)", () => {
  const prefix = `jobs-test:${randomUUID()}:`;
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop("SIGKILL")));
    await deleteKeys(redisUrl as string, prefix);
  });

  it("lets the workers keep their leases through another instance and complete their jobs, attempt 1", async () => {
    const env = { JOB_STORE: "redis", REDIS_URL: redisUrl as string, REDIS_PREFIX: prefix, CREATE_RATE: "0" };
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    servers.push(a, b);
    const kind = `instance-${randomUUID().slice(0, 8)}`;
    const created = await Promise.all([1, 2, 3].map(() => rawClient(a.url).createJob({ kind })));
    const claims = await Promise.all(created.map(() => workerClient(a.url).claimJob({ kinds: [kind], wait: { seconds: 5n } })));
    await a.stop("SIGKILL");
    for (const claim of claims) {
      const beat = await workerClient(b.url).heartbeat({ jobId: claim.job!.id, leaseToken: claim.leaseToken });
      expect(beat.cancelRequested).toBe(false);
      const done = await workerClient(b.url).completeJob({ jobId: claim.job!.id, leaseToken: claim.leaseToken });
      expect(done.job).toMatchObject({ state: JobState.COMPLETED, attempt: 1 });
    }
    expect(new Set(claims.map((claim) => claim.job!.id))).toEqual(new Set(created.map(({ job }) => job!.id)));
  });
});
