import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../support/start-server.js";
import {
  grpcFrame,
  grpcStatusOf,
  http1Request,
  http2Request,
  jsonOf,
  type RawAnswer,
  type RawRequest,
} from "../support/wire/raw-http.js";

// Every answer speaks the caller's protocol: an unknown service or method is UNIMPLEMENTED
// (gRPC and gRPC-Web: HTTP 200 and grpc-status 12; Connect: HTTP 404 and its JSON error), and a
// request the router cannot take (content type, HTTP method, URL) gets a Connect error body,
// never one of Fastify's own answers. Browsers can read all of them (CORS).

const origin = "https://app.example.com";
const unknownPaths = ["/jobs.v1.JobService/NoSuchMethod", "/jobs.v1.NoSuchService/GetStatus"];

type Send = (request: RawRequest) => Promise<RawAnswer>;
const httpVersions: [string, Send][] = [
  ["HTTP/1.1", http1Request],
  ["HTTP/2", http2Request],
];

/**
 * Asserts a Connect unary error: the HTTP status, JSON with a code and a message, and none of
 * Fastify's own error fields (soft: every mismatch is reported, not only the first).
 */
function expectConnectError(answer: RawAnswer, status: number, code?: string): void {
  expect.soft(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toMatch(/^application\/json/);
  const body = jsonOf(answer);
  expect(body).toBeDefined();
  if (code === undefined) {
    expect(body?.code).toEqual(expect.any(String));
  } else {
    expect(body?.code).toBe(code);
  }
  expect(body?.message).toEqual(expect.any(String));
  expect(answer.body.toString("utf8")).not.toMatch(/FST_ERR|statusCode/);
}

/** Asserts that a browser at `origin` may read the answer and its gRPC status (soft). */
function expectCors(answer: RawAnswer): void {
  expect.soft(answer.headers["access-control-allow-origin"]).toBe(origin);
  expect.soft(answer.headers["access-control-expose-headers"]).toMatch(/grpc-status/i);
}

function grpcJsCall(address: string, path: string): Promise<grpc.ServiceError> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<grpc.ServiceError>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.alloc(0),
      { deadline: Date.now() + 10_000 },
      (error, reply) => (error === null ? reject(new Error(`answered ${String(reply)}`)) : resolve(error)),
    );
  }).finally(() => client.close());
}

describe("unknown methods and requests the router cannot take", () => {
  let server: RunningServer;
  beforeEach(async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  for (const path of unknownPaths) {
    it(`answers gRPC over HTTP/2 at ${path} with HTTP 200 and grpc-status 12 and a grpc-message, as gRPC clients read them`, async () => {
      const answer = await http2Request({
        url: server.url,
        path,
        headers: { "content-type": "application/grpc", te: "trailers" },
        body: grpcFrame(new Uint8Array(0)),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toMatch(/^application\/grpc/);
      const { code, message } = grpcStatusOf(answer);
      expect(code).toBe("12");
      expect(message).toMatch(/\S/);
    });

    it(`answers @grpc/grpc-js calling ${path} with UNIMPLEMENTED and details`, async () => {
      const error = await grpcJsCall(new URL(server.url).host, path);
      expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(error.details).toMatch(/\S/);
      // grpc-js makes up "Received HTTP status code 404" when the server did not answer in gRPC.
      expect(error.details).not.toMatch(/HTTP status code/);
    });

    for (const [version, send] of httpVersions) {
      it(`answers gRPC-Web over ${version} at ${path} with HTTP 200 and grpc-status 12 in the headers`, async () => {
        const answer = await send({
          url: server.url,
          path,
          headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", origin },
          body: grpcFrame(new Uint8Array(0)),
        });
        expect(answer.status).toBe(200);
        expect(answer.headers["content-type"]).toMatch(/^application\/grpc-web/);
        expect(answer.headers["grpc-status"]).toBe("12");
        expect(answer.headers["grpc-message"]).toMatch(/\S/);
        expectCors(answer);
      });

      for (const [type, body] of [
        ["application/json", "{}"],
        ["application/proto", new Uint8Array(0)],
      ] as const) {
        it(`answers Connect ${type} over ${version} at ${path} with HTTP 404 and code unimplemented`, async () => {
          const answer = await send({ url: server.url, path, headers: { "content-type": type, origin }, body });
          expectConnectError(answer, 404, "unimplemented");
          expectCors(answer);
        });
      }
    }
  }

  for (const [version, send] of httpVersions) {
    for (const method of ["CreateJob", "GetStatus"]) {
      it(`answers ${method} sent as text/plain over ${version} with HTTP 415 and a Connect error body`, async () => {
        const answer = await send({
          url: server.url,
          path: `/jobs.v1.JobService/${method}`,
          headers: { "content-type": "text/plain", origin },
          body: "processingDuration=1s",
        });
        expectConnectError(answer, 415);
        expectCors(answer);
      });

      it(`answers ${method} without a content type over ${version} with HTTP 415 and a Connect error body`, async () => {
        const answer = await send({ url: server.url, path: `/jobs.v1.JobService/${method}`, headers: { origin }, body: "{}" });
        expectConnectError(answer, 415);
        expectCors(answer);
      });
    }

    it(`answers CreateJob by Connect GET over ${version} with HTTP 405 and a Connect error body`, async () => {
      const message = encodeURIComponent(JSON.stringify({ processingDuration: "1s" }));
      const answer = await send({
        url: server.url,
        path: `/jobs.v1.JobService/CreateJob?connect=v1&encoding=json&message=${message}`,
        method: "GET",
        headers: { origin },
      });
      expectConnectError(answer, 405);
      expectCors(answer);
    });

    it(`answers a URL that cannot be decoded over ${version} with a Connect error, not FST_ERR_BAD_URL`, async () => {
      const answer = await send({
        url: server.url,
        path: "/jobs.v1.JobService/GetStatus%ZZ",
        headers: { "content-type": "application/json", origin },
        body: "{}",
      });
      expectConnectError(answer, 400, "invalid_argument");
      expectCors(answer);
    });
  }

  it("answers a gRPC call to a URL that cannot be decoded with a gRPC status, not an HTTP error", async () => {
    const answer = await http2Request({
      url: server.url,
      path: "/jobs.v1.JobService/GetStatus%ZZ",
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: grpcFrame(new Uint8Array(0)),
    });
    expect(answer.status).toBe(200);
    expect(grpcStatusOf(answer).code).toBe("3");
  });
});
