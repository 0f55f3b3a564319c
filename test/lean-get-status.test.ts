import { connect as connectHttp2, type ClientHttp2Session } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetStatusRequestSchema } from "../gen/jobs/v1/job_service_pb.js";
import { createMemoryJobStore } from "../server/memory-job-store.js";
import { type RunningServer, rawClient, startServer } from "./support/start-server.js";

// GetStatus answers the same through the lean path as through Connect's router: two servers on
// one store, one of them with the lean path off, asked the same questions.

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

const comparedHeaders = [
  "content-type",
  "content-encoding",
  "vary",
  "access-control-allow-origin",
  "access-control-expose-headers",
  "retry-after",
  "www-authenticate",
  "grpc-status",
  "grpc-message",
  "grpc-encoding",
];

async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${url}/jobs.v1.JobService/GetStatus`, { method: "POST", headers, body: body as BodyInit });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: Object.fromEntries(comparedHeaders.map((name) => [name, response.headers.get(name) ?? undefined])),
    body: Buffer.from(bytes).toString("base64"),
  };
}

function grpcCall(session: ClientHttp2Session, frame: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/jobs.v1.JobService/GetStatus",
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    const answer: Answer = { status: 0, headers: {}, body: "" };
    const chunks: Buffer[] = [];
    const keep = (fields: Record<string, unknown>): void => {
      for (const name of comparedHeaders) {
        if (fields[name] !== undefined) {
          answer.headers[name] = String(fields[name]);
        }
      }
    };
    stream.on("response", (fields) => {
      answer.status = Number(fields[":status"]);
      keep(fields);
    });
    stream.on("trailers", keep);
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ ...answer, body: Buffer.concat(chunks).toString("base64") }));
    stream.on("error", reject);
    stream.end(frame);
  });
}

function frame(message: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(5 + message.length);
  new DataView(bytes.buffer).setUint32(1, message.length);
  bytes.set(message, 5);
  return bytes;
}

describe("the lean GetStatus path", () => {
  const store = createMemoryJobStore();
  let lean: RunningServer;
  let routed: RunningServer;
  let jobId: string;
  let sessions: ClientHttp2Session[];
  beforeAll(async () => {
    const settings = { store, maxBodyBytes: 2_048, shortPollRate: 0 };
    lean = await startServer(settings);
    routed = await startServer({ ...settings, leanGetStatus: false });
    jobId = (await rawClient(lean.url).createJob({ processingDuration: { seconds: 3_600n } })).job!.id;
    sessions = [connectHttp2(lean.url), connectHttp2(routed.url)];
  });
  afterAll(async () => {
    for (const session of sessions) {
      session.close();
    }
    await lean.close();
    await routed.close();
  });

  const json = { "content-type": "application/json" };
  const connectCases: [string, () => string | Uint8Array, Record<string, string>][] = [
    ["a short poll in JSON", () => JSON.stringify({ jobId }), json],
    ["a short poll in JSON with charset and an Origin", () => JSON.stringify({ jobId }), { "content-type": "application/json; charset=utf-8", origin: "http://page.test" }],
    ["a short poll in binary", () => toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId })), { "content-type": "application/proto" }],
    ["a long wait that answers at once (stale version)", () => JSON.stringify({ jobId, wait: "5s", knownVersion: "7" }), json],
    ["a long wait with fractional seconds and a deadline", () => JSON.stringify({ jobId, wait: "0.2s", knownVersion: "1" }), { ...json, "connect-timeout-ms": "5000" }],
    ["proto-style field names", () => JSON.stringify({ job_id: jobId, known_version: 3 }), json],
    ["an unknown field", () => JSON.stringify({ jobId, colour: "blue" }), json],
    ["malformed JSON", () => "{jobId", json],
    ["a wrongly typed field", () => JSON.stringify({ jobId: 42 }), json],
    ["a malformed wait", () => JSON.stringify({ jobId, wait: "soon" }), json],
    ["a negative wait", () => JSON.stringify({ jobId, wait: "-1s" }), json],
    ["an empty id", () => JSON.stringify({}), json],
    ["a malformed id", () => JSON.stringify({ jobId: "nope" }), json],
    ["an unknown id", () => JSON.stringify({ jobId: "AAAAAAAAAAAAAAAAAAAAAA" }), json],
    ["a body over the limit", () => JSON.stringify({ jobId, pad: "x".repeat(4_000) }), json],
    ["malformed binary", () => new Uint8Array([0x0a, 0xff]), { "content-type": "application/proto" }],
    ["a malformed deadline", () => JSON.stringify({ jobId }), { ...json, "connect-timeout-ms": "soon" }],
  ];

  for (const [name, body, headers] of connectCases) {
    it(`answers ${name} as the router does (Connect)`, async () => {
      const [fromLean, fromRouter] = await Promise.all([post(lean.url, body(), headers), post(routed.url, body(), headers)]);
      expect(fromLean).toEqual(fromRouter);
    });
  }

  const grpcCases: [string, () => Uint8Array, Record<string, string>][] = [
    ["a short poll", () => frame(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId }))), {}],
    ["a short poll accepting gzip", () => frame(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId }))), { "grpc-accept-encoding": "gzip" }],
    ["an unknown id", () => frame(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId: "AAAAAAAAAAAAAAAAAAAAAA" }))), {}],
    ["a malformed id", () => frame(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId: "x" }))), {}],
    ["no message", () => new Uint8Array(), {}],
    ["a malformed deadline", () => frame(new Uint8Array()), { "grpc-timeout": "soon" }],
  ];

  for (const [name, body, headers] of grpcCases) {
    it(`answers ${name} as the router does (gRPC)`, async () => {
      const [fromLean, fromRouter] = await Promise.all([
        grpcCall(sessions[0]!, body(), headers),
        grpcCall(sessions[1]!, body(), headers),
      ]);
      expect(fromLean).toEqual(fromRouter);
    });
  }
});
