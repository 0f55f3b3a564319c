import { create, toBinary } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GetStatusRequestSchema } from "../../gen/jobs/v1/job_service_pb.js";
import type { ServerOptions } from "../../server/server-options.js";
import { postJson, type RunningServer, startServer } from "../support/start-server.js";
import {
  connectEndStream,
  grpcFrame,
  grpcStatusOf,
  http1Request,
  http2Request,
  jsonOf,
  type RawAnswer,
} from "../support/wire/raw-http.js";

// A client's mistake is INVALID_ARGUMENT (HTTP 400 in Connect, grpc-status 3 in gRPC) naming
// what is wrong, never a 5xx and never silently read some other way, alike on the lean GetStatus
// path and on Connect's router, and it changes nothing. The forms the JSON mapping allows still work.

const servers: [string, ServerOptions][] = [
  ["the lean GetStatus path", {}],
  ["the router (lean path off)", { leanPath: false }],
];

/** A string field (1: job_id) that says it is 5 bytes long and has one: protobuf binary cut short. */
const truncatedMessage = Uint8Array.of(0x0a, 0x05, 0x41);
/** job_id (field 1) holding bytes that are not UTF-8. */
const notUtf8Message = Uint8Array.of(0x0a, 0x03, 0xff, 0xfe, 0x41);

function path(method: string): string {
  return `/jobs.v1.JobService/${method}`;
}

/** Connect JSON over HTTP/1.1 (what browsers and curl send). */
function postConnect(url: string, method: string, body: string | Uint8Array, type = "application/json"): Promise<RawAnswer> {
  return http1Request({ url, path: path(method), headers: { "content-type": type }, body });
}

function grpcCall(url: string, method: string, message: Uint8Array): Promise<RawAnswer> {
  return http2Request({
    url,
    path: path(method),
    headers: { "content-type": "application/grpc", te: "trailers" },
    body: grpcFrame(message),
  });
}

function grpcWebCall(url: string, method: string, message: Uint8Array): Promise<RawAnswer> {
  return http1Request({
    url,
    path: path(method),
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    body: grpcFrame(message),
  });
}

/** Asserts a Connect unary INVALID_ARGUMENT whose message matches `names`. */
function expectInvalid(answer: RawAnswer, names?: RegExp): void {
  const body = jsonOf(answer);
  expect({ status: answer.status, code: body?.code }).toEqual({ status: 400, code: "invalid_argument" });
  if (names !== undefined) {
    expect(body?.message).toMatch(names);
  }
}

function expectGrpcInvalid(answer: RawAnswer): void {
  expect(answer.status).toBe(200);
  expect(grpcStatusOf(answer).code).toBe("3");
}

async function jobIds(url: string): Promise<string[]> {
  const answer = await postJson(url, "ListJobs", { pageSize: 1000 });
  expect(answer.status).toBe(200);
  return ((answer.body.jobs ?? []) as { id: string }[]).map((job) => job.id).sort();
}

for (const [where, options] of servers) {
  describe(`strict input on ${where}`, () => {
    let server: RunningServer;
    let jobId: string;
    beforeEach(async () => {
      server = await startServer({ ...options, shortPollRate: 0, createRate: 0, listRate: 0 });
      const created = await postJson(server.url, "CreateJob", { processingDuration: "60s" });
      jobId = (created.body.job as { id: string }).id;
    });
    afterEach(async () => {
      await server.close();
    });

    /** Runs `send` and asserts that no job was created by it. */
    async function createsNothing(send: () => Promise<void>): Promise<void> {
      const before = await jobIds(server.url);
      await send();
      expect(await jobIds(server.url)).toEqual(before);
    }

    it('refuses GetStatus with "wait":"1s junk" as INVALID_ARGUMENT naming wait', async () => {
      expectInvalid(await postConnect(server.url, "GetStatus", JSON.stringify({ jobId, wait: "1s junk" })), /wait/);
    });

    it('refuses GetStatus with "wait":"1s junk" or "knownVersion":"0x1" over HTTP/2 (Connect JSON) too', async () => {
      for (const fields of [{ wait: "1s junk" }, { wait: "1s", knownVersion: "0x1" }]) {
        const answer = await http2Request({
          url: server.url,
          path: path("GetStatus"),
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jobId, ...fields }),
        });
        expectInvalid(answer, "knownVersion" in fields ? /known_?version/i : /wait/);
      }
    });

    for (const knownVersion of [" 1", "0x1", "+1", "1 "]) {
      it(`refuses GetStatus with "knownVersion":${JSON.stringify(knownVersion)} as INVALID_ARGUMENT naming known_version`, async () => {
        const body = JSON.stringify({ jobId, wait: "1s", knownVersion });
        expectInvalid(await postConnect(server.url, "GetStatus", body), /known_?version/i);
      });
    }

    it("refuses GetStatus JSON that is not UTF-8 as INVALID_ARGUMENT, even in a field it ignores", async () => {
      const body = Buffer.concat([Buffer.from(`{"jobId":"${jobId}","note":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      expectInvalid(await postConnect(server.url, "GetStatus", body));
    });

    it("refuses GetStatus JSON that names a field twice as INVALID_ARGUMENT, as protobuf-es's JSON reader does", async () => {
      for (const body of [`{"jobId":"AAAAAAAAAAAAAAAAAAAAAA","jobId":"${jobId}"}`, `{"jobId":"${jobId}","jobId":"${jobId}"}`]) {
        expectInvalid(await postConnect(server.url, "GetStatus", body), /jobId|job_id/);
      }
    });

    it("refuses GetStatus as malformed protobuf binary (Connect application/proto) as INVALID_ARGUMENT", async () => {
      expectInvalid(await postConnect(server.url, "GetStatus", truncatedMessage, "application/proto"));
    });

    it("refuses GetStatus with a binary string field that is not UTF-8 as INVALID_ARGUMENT", async () => {
      expectInvalid(await postConnect(server.url, "GetStatus", notUtf8Message, "application/proto"));
    });

    it("refuses GetStatus as malformed protobuf, or a job_id that is not UTF-8, over gRPC with grpc-status 3", async () => {
      expectGrpcInvalid(await grpcCall(server.url, "GetStatus", truncatedMessage));
      expectGrpcInvalid(await grpcCall(server.url, "GetStatus", notUtf8Message));
    });

    it("refuses GetStatus as malformed protobuf over gRPC-Web with grpc-status 3", async () => {
      expectGrpcInvalid(await grpcWebCall(server.url, "GetStatus", truncatedMessage));
    });

    it("refuses a Connect GET whose base64 message cannot be decoded as INVALID_ARGUMENT", async () => {
      const answer = await http1Request({
        url: server.url,
        method: "GET",
        path: `${path("GetStatus")}?connect=v1&encoding=proto&base64=1&message=%ZZ`,
      });
      expectInvalid(answer);
    });

    it('refuses a Connect GET whose JSON message has "knownVersion":"0x1" as INVALID_ARGUMENT naming known_version', async () => {
      const message = encodeURIComponent(JSON.stringify({ jobId, knownVersion: "0x1" }));
      const answer = await http1Request({
        url: server.url,
        method: "GET",
        path: `${path("GetStatus")}?connect=v1&encoding=json&message=${message}`,
      });
      expectInvalid(answer, /known_?version/i);
    });

    it("refuses a Connect GET whose JSON message is not JSON as INVALID_ARGUMENT", async () => {
      const answer = await http1Request({
        url: server.url,
        method: "GET",
        path: `${path("GetStatus")}?connect=v1&encoding=json&message=${encodeURIComponent('{"jobId":')}`,
      });
      expectInvalid(answer);
    });

    it('refuses CreateJob with "processingDuration":"2s x" as INVALID_ARGUMENT naming processing_duration, creating nothing', async () => {
      await createsNothing(async () => {
        const answer = await postConnect(server.url, "CreateJob", JSON.stringify({ processingDuration: "2s x" }));
        expectInvalid(answer, /processing_?duration/i);
      });
    });

    it("refuses CreateJob JSON that is not UTF-8 as INVALID_ARGUMENT, creating nothing", async () => {
      await createsNothing(async () => {
        const body = Buffer.concat([
          Buffer.from('{"processingDuration":"1s","x":"'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}'),
        ]);
        expectInvalid(await postConnect(server.url, "CreateJob", body));
      });
    });

    it("refuses CreateJob as malformed protobuf (Connect, gRPC, gRPC-Web) as INVALID_ARGUMENT, creating nothing", async () => {
      // processing_duration (field 1) cut short.
      const message = Uint8Array.of(0x0a, 0x04, 0x08);
      await createsNothing(async () => {
        expectInvalid(await postConnect(server.url, "CreateJob", message, "application/proto"));
        expectGrpcInvalid(await grpcCall(server.url, "CreateJob", message));
        expectGrpcInvalid(await grpcWebCall(server.url, "CreateJob", message));
      });
    });

    it('refuses ListJobs with "state":"JOB_STATE_NOPE" as INVALID_ARGUMENT naming state, rather than listing every job', async () => {
      expectInvalid(await postConnect(server.url, "ListJobs", JSON.stringify({ state: "JOB_STATE_NOPE" })), /state/);
    });

    it('refuses WatchJob (Connect streaming JSON) with "knownVersion":"0x1" as INVALID_ARGUMENT', async () => {
      const message = Buffer.from(JSON.stringify({ jobId, knownVersion: "0x1" }));
      const answer = await http1Request({
        url: server.url,
        path: path("WatchJob"),
        // Bounded, so that a watch read leniently (held until the job ends) ends too.
        headers: { "content-type": "application/connect+json", "connect-timeout-ms": "5000" },
        body: grpcFrame(message),
      });
      expect(answer.status).toBe(200);
      const end = connectEndStream(answer);
      expect(end?.error?.code).toBe("invalid_argument");
      expect(end?.error?.message).toMatch(/known_?version/i);
    });

    it('still reads "wait":"1.5s" and "knownVersion":"1" (a long wait answered with the unchanged job)', async () => {
      const answer = await postConnect(server.url, "GetStatus", JSON.stringify({ jobId, wait: "1.5s", knownVersion: "1" }));
      expect(answer.status).toBe(200);
      expect(jsonOf(answer)?.job).toMatchObject({ id: jobId, state: "JOB_STATE_PENDING", version: "1" });
    });

    it('still lists with "state":"JOB_STATE_PENDING", which filters', async () => {
      const done = await postJson(server.url, "CreateJob", { processingDuration: "0s" });
      const doneId = (done.body.job as { id: string }).id;
      const answer = await postConnect(server.url, "ListJobs", JSON.stringify({ state: "JOB_STATE_PENDING", pageSize: 1000 }));
      expect(answer.status).toBe(200);
      const jobs = (jsonOf(answer)?.jobs ?? []) as { id: string; state: string }[];
      expect(jobs.map((job) => job.id)).toContain(jobId);
      expect(jobs.every((job) => job.state === "JOB_STATE_PENDING")).toBe(true);
      // Once the zero-length job has ended, it is no longer listed as pending.
      const status = await postJson(server.url, "GetStatus", { jobId: doneId, wait: "20s", knownVersion: "1" });
      expect((status.body.job as { state: string }).state).toBe("JOB_STATE_COMPLETED");
      const again = await postConnect(server.url, "ListJobs", JSON.stringify({ state: "JOB_STATE_PENDING", pageSize: 1000 }));
      expect(((jsonOf(again)?.jobs ?? []) as { id: string }[]).map((job) => job.id)).not.toContain(doneId);
    });

    it("still answers a Connect GET with a base64 proto message", async () => {
      const message = base64Encode(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId })), "url");
      const answer = await http1Request({
        url: server.url,
        method: "GET",
        path: `${path("GetStatus")}?connect=v1&encoding=proto&base64=1&message=${message}`,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/proto");
    });

    it("still reads well-formed protobuf over gRPC", async () => {
      const answer = await grpcCall(
        server.url,
        "GetStatus",
        toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId })),
      );
      expect(grpcStatusOf(answer).code).toBe("0");
    });
  });
}
