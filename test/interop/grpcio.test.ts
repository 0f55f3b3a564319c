import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { create, type DescMessage, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { CreateJobRequestSchema, CreateJobResponseSchema } from "../../gen/jobs/v1/job_service_pb.js";
import {
  ClaimJobRequestSchema,
  ClaimJobResponseSchema,
  CompleteJobRequestSchema,
  CompleteJobResponseSchema,
  HeartbeatRequestSchema,
  HeartbeatResponseSchema,
} from "../../gen/jobs/v1/worker_service_pb.js";
import { metricValue } from "../support/metric-value.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { rawClient } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";

// A worker on grpcio (Debian's python3-grpcio: gRPC's C core, not a Node stack) calling
// WorkerService with raw protobuf bytes, and a caller's CreateJob with a wait. REQUIRE_GRPCIO=1 (CI) fails rather than skips without it.

const RAW_CALL = fileURLToPath(new URL("python/raw_call.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

function hasGrpcio(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import grpc"], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env.REQUIRE_GRPCIO === "1") {
      throw new Error(`REQUIRE_GRPCIO=1 but ${PYTHON} cannot import grpc (apt-get install python3-grpcio)`);
    }
    console.warn("SKIPPED: the grpcio tests need python3-grpcio (apt-get install python3-grpcio)");
    return false;
  }
}

/** One grpcio call; resolves with the decoded answer, or rejects with grpcio's code and details. */
function grpcioCall<I extends DescMessage, O extends DescMessage>(
  url: string,
  path: string,
  input: I,
  output: O,
  request: MessageInitShape<I>,
  timeoutS = 25,
) {
  const hex = Buffer.from(toBinary(input, create(input, request))).toString("hex");
  const child = spawn(PYTHON, [RAW_CALL, new URL(url).host, path, hex, String(timeoutS)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise<ReturnType<typeof fromBinary<O>>>((resolve, reject) => {
    child.once("exit", () => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (line === "OK" || line.startsWith("OK ")) {
        resolve(fromBinary(output, Buffer.from(line.slice(3), "hex")));
      } else {
        reject(new Error(line === "" ? "grpcio printed nothing" : line));
      }
    });
  });
}

describe.skipIf(!hasGrpcio())("interop: a worker and a caller on grpcio (python3-grpcio)", () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop("SIGKILL")));
  });

  it("creates a job with a wait, answered at its end, and before a shorter deadline with the job pending", async () => {
    const server = await spawnServer({ CREATE_RATE: "0" });
    servers.push(server);
    const path = "/jobs.v1.JobService/CreateJob";
    const ended = await grpcioCall(server.url, path, CreateJobRequestSchema, CreateJobResponseSchema, {
      processingDuration: { nanos: 300_000_000 },
      wait: { seconds: 20n },
    });
    expect(ended.job).toMatchObject({ state: JobState.COMPLETED, version: 2n });
    // grpcio's deadline (1.5 s) is shorter than the wait: answered OK just before it, not DEADLINE_EXCEEDED.
    const cut = await grpcioCall(
      server.url,
      path,
      CreateJobRequestSchema,
      CreateJobResponseSchema,
      { processingDuration: { seconds: 3_600n }, wait: { seconds: 20n } },
      1.5,
    );
    expect(cut.job).toMatchObject({ state: JobState.PENDING, version: 1n });
  });

  it("claims a job, sends a heartbeat with progress and completes it", async () => {
    const server = await spawnServer({ CREATE_RATE: "0" });
    servers.push(server);
    const { job } = await rawClient(server.url).createJob({ kind: "python" });
    const claim = await grpcioCall(server.url, "/jobs.v1.WorkerService/ClaimJob", ClaimJobRequestSchema, ClaimJobResponseSchema, {
      kinds: ["python"],
      wait: { seconds: 10n },
    });
    expect(claim.job).toMatchObject({ id: job!.id, attempt: 1, held: true });
    const beat = await grpcioCall(
      server.url,
      "/jobs.v1.WorkerService/Heartbeat",
      HeartbeatRequestSchema,
      HeartbeatResponseSchema,
      {
        jobId: job!.id,
        leaseToken: claim.leaseToken,
        progress: { fraction: 0.5, message: "half" },
      },
    );
    expect(beat.cancelRequested).toBe(false);
    const done = await grpcioCall(
      server.url,
      "/jobs.v1.WorkerService/CompleteJob",
      CompleteJobRequestSchema,
      CompleteJobResponseSchema,
      { jobId: job!.id, leaseToken: claim.leaseToken, result: { kind: { case: "stringValue", value: "from python" } } },
    );
    expect(done.job?.state).toBe(JobState.COMPLETED);
  });

  it("answers a claim held at SIGTERM with an empty answer, never a cut stream (three times over)", async () => {
    for (let round = 0; round < 3; round++) {
      const server = await spawnServer({});
      servers.push(server);
      const claiming = grpcioCall(server.url, "/jobs.v1.WorkerService/ClaimJob", ClaimJobRequestSchema, ClaimJobResponseSchema, {
        kinds: ["never"],
        wait: { seconds: 20n },
      });
      await waitUntil(async () => (await metricValue(server.url, "held_claims")) === 1, { what: "the claim to be held" });
      server.child.kill("SIGTERM");
      const answer = await claiming;
      expect(answer.job).toBeUndefined();
      expect(await server.exited).toBe(0);
    }
  });
});
