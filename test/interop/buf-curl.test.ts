import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary, type JsonValue, toJson } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { durationMs, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { type RunningServer, startServer } from "../support/start-server.js";

// buf curl (a Go client) with no schema given: it learns the contract through our gRPC
// reflection service, then calls over each protocol.

const run = promisify(execFile);
const buf = "node_modules/.bin/buf";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function bufCurl(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(buf, ["curl", ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The JSON messages buf curl printed, one object per message. */
function messages(stdout: string): Record<string, unknown>[] {
  return stdout
    .split(/\n(?=\{)/)
    .filter((part) => part.trim() !== "")
    .map((part) => JSON.parse(part) as Record<string, unknown>);
}

/**
 * Decodes an error detail as a reflection client such as grpcurl does: with nothing but the
 * descriptors that the server's reflection sends for the detail's type.
 */
async function decodeThroughReflection(baseUrl: string, detail: { type: string; value: string }): Promise<JsonValue> {
  const client = createClient(ServerReflection, createGrpcTransport({ baseUrl }));
  const questions = async function* () {
    yield { messageRequest: { case: "fileContainingSymbol", value: detail.type } } as const;
  };
  for await (const answer of client.serverReflectionInfo(questions())) {
    if (answer.messageResponse.case !== "fileDescriptorResponse") {
      throw new Error(`reflection answered ${answer.messageResponse.case} for ${detail.type}`);
    }
    const [file, ...imports] = answer.messageResponse.value.fileDescriptorProto.map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    const byName = new Map(imports.map((proto) => [proto.name, proto]));
    const message = createFileRegistry(file!, (name) => byName.get(name)).getMessage(detail.type);
    if (message === undefined) {
      throw new Error(`the files reflection sent do not declare ${detail.type}`);
    }
    return toJson(message, fromBinary(message, base64Decode(detail.value)));
  }
  throw new Error("reflection sent no answer");
}

const protocols: [string, string[]][] = [
  ["grpc", ["--protocol", "grpc", "--http2-prior-knowledge"]],
  ["grpcweb", ["--protocol", "grpcweb", "--http2-prior-knowledge"]],
  ["connect over HTTP/2", ["--protocol", "connect", "--http2-prior-knowledge"]],
  ["connect over HTTP/1.1", ["--protocol", "connect"]],
];

describe("interop: buf curl through reflection", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ shortPollRate: 1 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("lists JobService, WorkerService and Health with no schema given", async () => {
    const result = await bufCurl(["--protocol", "grpc", "--http2-prior-knowledge", "--list-services", server.url]);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual(
      expect.arrayContaining(["jobs.v1.JobService", "jobs.v1.WorkerService", "grpc.health.v1.Health"]),
    );
  });

  it("works a job of a kind through WorkerService by reflection alone: claim, then complete with a JSON result", async () => {
    const flags = protocols[0]![1];
    const created = await bufCurl([
      ...flags,
      "-d",
      '{"kind":"buf-curl","input":[1,2]}',
      `${server.url}/jobs.v1.JobService/CreateJob`,
    ]);
    const job = messages(created.stdout)[0]!.job as { id: string };
    const claimed = await bufCurl([
      ...flags,
      "-d",
      '{"kinds":["buf-curl"],"wait":"5s"}',
      `${server.url}/jobs.v1.WorkerService/ClaimJob`,
    ]);
    const claim = messages(claimed.stdout)[0] as { job: { id: string; input: unknown }; leaseToken: string };
    expect(claim.job).toMatchObject({ id: job.id, input: [1, 2] });
    const completed = await bufCurl([
      ...flags,
      "-d",
      JSON.stringify({ jobId: job.id, leaseToken: claim.leaseToken, result: { sum: 3 } }),
      `${server.url}/jobs.v1.WorkerService/CompleteJob`,
    ]);
    expect(completed.code).toBe(0);
    expect(messages(completed.stdout)[0]!.job).toMatchObject({ state: "JOB_STATE_COMPLETED", result: { sum: 3 } });
  });

  for (const [name, flags] of protocols) {
    it(`creates a job and long-waits for it to be COMPLETED (${name})`, async () => {
      const created = await bufCurl([
        ...flags,
        "-d",
        // Long enough that the wait below is held even on a loaded machine: a job that has ended
        // already is answered at once, which costs a short poll, and this server allows one a second.
        '{"processingDuration":"2s"}',
        `${server.url}/jobs.v1.JobService/CreateJob`,
      ]);
      expect(created.code).toBe(0);
      const job = messages(created.stdout)[0]!.job as { id: string };
      const waited = await bufCurl([
        ...flags,
        "-d",
        JSON.stringify({ jobId: job.id, wait: "10s", knownVersion: "1" }),
        `${server.url}/jobs.v1.JobService/GetStatus`,
      ]);
      expect(waited.code).toBe(0);
      expect(messages(waited.stdout)[0]!.job).toMatchObject({ state: "JOB_STATE_COMPLETED", version: "2" });
    });
  }

  for (const [name, flags] of protocols.slice(0, 2)) {
    it(`streams WatchJobs for several jobs to their ends, listing an unknown id (${name})`, async () => {
      const ids: string[] = [];
      for (const duration of ["0.3s", "0.6s"]) {
        const created = await bufCurl([
          ...flags,
          "-d",
          JSON.stringify({ processingDuration: duration }),
          `${server.url}/jobs.v1.JobService/CreateJob`,
        ]);
        ids.push((messages(created.stdout)[0]!.job as { id: string }).id);
      }
      const unknown = "AAAAAAAAAAAAAAAAAAAAAA";
      const watched = await bufCurl([
        ...flags,
        "-d",
        JSON.stringify({ jobIds: [...ids, unknown] }),
        `${server.url}/jobs.v1.JobService/WatchJobs`,
      ]);
      expect(watched.code).toBe(0);
      const replies = messages(watched.stdout) as { jobs?: { id: string; state: string }[]; notFoundJobIds?: string[] }[];
      expect(replies[0]?.notFoundJobIds).toEqual([unknown]);
      const ends = replies.flatMap((reply) => reply.jobs ?? []).filter((job) => job.state === "JOB_STATE_COMPLETED");
      expect(ends.map((job) => job.id)).toEqual(ids);
    });
  }

  it("prints each change of WatchJob and ends at the terminal state", async () => {
    const created = await bufCurl([
      ...protocols[0]![1],
      "-d",
      '{"processingDuration":"0.5s"}',
      `${server.url}/jobs.v1.JobService/CreateJob`,
    ]);
    const job = messages(created.stdout)[0]!.job as { id: string };
    const watched = await bufCurl([
      ...protocols[0]![1],
      "-d",
      JSON.stringify({ jobId: job.id }),
      `${server.url}/jobs.v1.JobService/WatchJob`,
    ]);
    expect(watched.code).toBe(0);
    expect(messages(watched.stdout).map((message) => (message.job as { state: string }).state)).toEqual([
      "JOB_STATE_PENDING",
      "JOB_STATE_COMPLETED",
    ]);
  });

  /** Short polls a new job three times at once over gRPC, past the limit of one a second. */
  async function refusedPoll(): Promise<Result> {
    const created = await bufCurl([
      ...protocols[0]![1],
      "-d",
      '{"processingDuration":"30s"}',
      `${server.url}/jobs.v1.JobService/CreateJob`,
    ]);
    const job = messages(created.stdout)[0]!.job as { id: string };
    const polls = await Promise.all(
      [0, 1, 2].map(() =>
        bufCurl([...protocols[0]![1], "-d", JSON.stringify({ jobId: job.id }), `${server.url}/jobs.v1.JobService/GetStatus`]),
      ),
    );
    const refused = polls.find((poll) => poll.code !== 0);
    expect(refused).toBeDefined();
    return refused!;
  }

  it("shows the RetryInfo detail past the rate limit", async () => {
    const refused = await refusedPoll();
    const error = JSON.parse(refused.stderr) as { code: string; details: { type: string; value: string }[] };
    expect(error.code).toBe("resource_exhausted");
    expect(error.details[0]?.type).toBe("google.rpc.RetryInfo");
    const info = fromBinary(RetryInfoSchema, Buffer.from(error.details[0]!.value, "base64"));
    expect(durationMs(info.retryDelay!)).toBeGreaterThan(0);
  });

  it("lets a client decode the RetryInfo detail with what reflection alone describes", async () => {
    const refused = await refusedPoll();
    // Over gRPC buf curl prints a detail as its type and bytes: it decodes only the types built
    // into it, not those it learnt through reflection. grpcurl asks reflection; so do we here.
    const [detail] = (JSON.parse(refused.stderr) as { details: { type: string; value: string }[] }).details;
    expect(await decodeThroughReflection(server.url, detail!)).toEqual({ retryDelay: expect.stringMatching(/^\d+(\.\d+)?s$/) });
  });

  it("reports INVALID_ARGUMENT for a malformed id", async () => {
    const result = await bufCurl([...protocols[0]![1], "-d", '{"jobId":"x"}', `${server.url}/jobs.v1.JobService/GetStatus`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("invalid_argument");
  });
});
