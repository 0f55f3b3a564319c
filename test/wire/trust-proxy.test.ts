import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GetStatusRequestSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { ConfigError, loadConfig } from "../../server/config.js";
import type { ServerOptions } from "../../server/server-options.js";
import { postJson, startServer } from "../support/start-server.js";
import { grpcFrame, grpcStatusOf, http1Request, http2Request, jsonOf } from "../support/wire/raw-http.js";

// Who a call is, for per-caller limits, is the peer address unless TRUST_PROXY names that peer:
// then it is the address the proxy forwards (X-Forwarded-For, walked from the right through
// trusted proxies only). A caller can never pick its identity by sending the header itself. The
// same rule holds on the lean GetStatus path and on Connect's router.
//
// Each limit here lets one call through per 100 s, so a second call from the same caller is
// refused however slow the machine, and a call from another caller never is.

const ONE_PER_100_S = 0.01;
/** The test client connects from here. */
const peer = "127.0.0.1";

type Outcome = "allowed" | "limited";

interface Path {
  name: string;
  /** The limit that path takes from each call; jobs are created freely for the GetStatus paths. */
  options: ServerOptions;
  /** Whether the path needs a job to ask about. */
  needsJob: boolean;
  call(url: string, jobId: string, forwardedFor: string | undefined): Promise<Outcome>;
}

/** The X-Forwarded-For header; "a | b" sends two header lines, "a" and "b". */
function forwarded(forwardedFor: string | undefined): Record<string, string | string[]> {
  if (forwardedFor === undefined) {
    return {};
  }
  const lines = forwardedFor.split(" | ");
  return { "x-forwarded-for": lines.length === 1 ? forwardedFor : lines };
}

/** A Connect JSON POST over HTTP/1.1: 200 allowed, 429 limited, anything else fails the test. */
async function connectCall(url: string, method: string, body: unknown, forwardedFor: string | undefined): Promise<Outcome> {
  const answer = await http1Request({
    url,
    path: `/jobs.v1.JobService/${method}`,
    headers: { "content-type": "application/json", ...forwarded(forwardedFor) },
    body: JSON.stringify(body),
  });
  expect([200, 429], `${method} answered ${answer.status} ${answer.body.toString()}`).toContain(answer.status);
  if (answer.status === 429) {
    expect(jsonOf(answer)?.code).toBe("resource_exhausted");
  }
  return answer.status === 200 ? "allowed" : "limited";
}

/** GetStatus over gRPC (HTTP/2): grpc-status 0 allowed, 8 limited. */
async function grpcGetStatus(url: string, jobId: string, forwardedFor: string | undefined): Promise<Outcome> {
  const answer = await http2Request({
    url,
    path: "/jobs.v1.JobService/GetStatus",
    headers: { "content-type": "application/grpc", te: "trailers", ...forwarded(forwardedFor) },
    body: grpcFrame(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId }))),
  });
  const { code } = grpcStatusOf(answer);
  expect(["0", "8"], `GetStatus answered grpc-status ${code}`).toContain(code);
  return code === "0" ? "allowed" : "limited";
}

const pollLimited: ServerOptions = { shortPollRate: ONE_PER_100_S, createRate: 0 };
const paths: Path[] = [
  {
    name: "GetStatus on the lean path (Connect JSON over HTTP/1.1)",
    options: pollLimited,
    needsJob: true,
    call: (url, jobId, forwardedFor) => connectCall(url, "GetStatus", { jobId }, forwardedFor),
  },
  {
    name: "GetStatus on the lean path (gRPC over HTTP/2)",
    options: pollLimited,
    needsJob: true,
    call: grpcGetStatus,
  },
  {
    name: "GetStatus on the router (Connect JSON, lean path off)",
    options: { ...pollLimited, leanPath: false },
    needsJob: true,
    call: (url, jobId, forwardedFor) => connectCall(url, "GetStatus", { jobId }, forwardedFor),
  },
  {
    name: "GetStatus on the router (gRPC, lean path off)",
    options: { ...pollLimited, leanPath: false },
    needsJob: true,
    call: grpcGetStatus,
  },
  {
    name: "CreateJob on the router",
    options: { createRate: ONE_PER_100_S },
    needsJob: false,
    call: (url, _jobId, forwardedFor) => connectCall(url, "CreateJob", { processingDuration: "60s" }, forwardedFor),
  },
];

/** Starts a server with `options`, runs `calls` with a call function bound to it, and closes it. */
async function withServer(
  path: Path,
  options: ServerOptions,
  calls: (call: (forwardedFor?: string) => Promise<Outcome>) => Promise<void>,
): Promise<void> {
  const server = await startServer({ ...path.options, ...options });
  try {
    let jobId = "";
    if (path.needsJob) {
      const created = await postJson(server.url, "CreateJob", { processingDuration: "60s" });
      jobId = (created.body.job as { id: string }).id;
    }
    await calls((forwardedFor) => path.call(server.url, jobId, forwardedFor));
  } finally {
    await server.close();
  }
}

for (const path of paths) {
  describe(`caller identity: ${path.name}`, () => {
    it("without trustProxy, calls forwarded for two addresses are one caller (the peer) and share one limit", async () => {
      await withServer(path, {}, async (call) => {
        expect(await call("203.0.113.1")).toBe("allowed");
        expect(await call("203.0.113.2")).toBe("limited");
        expect(await call(undefined)).toBe("limited");
      });
    });

    it(`with trustProxy ["${peer}"], calls forwarded for different addresses have separate limits`, async () => {
      await withServer(path, { trustProxy: [peer] }, async (call) => {
        expect(await call("203.0.113.1")).toBe("allowed");
        expect(await call("203.0.113.2")).toBe("allowed");
        // The proxy's own calls (nothing forwarded) are the proxy's.
        expect(await call(undefined)).toBe("allowed");
      });
    });

    it(`with trustProxy ["${peer}"], calls forwarded for the same address share one limit`, async () => {
      await withServer(path, { trustProxy: [peer] }, async (call) => {
        expect(await call("203.0.113.1")).toBe("allowed");
        expect(await call("203.0.113.1")).toBe("limited");
        expect(await call("203.0.113.2")).toBe("allowed");
      });
    });

    it("takes the first untrusted address from the right of a forwarded chain, whatever the caller wrote before it", async () => {
      await withServer(path, { trustProxy: [peer] }, async (call) => {
        // 198.51.100.7 is what the caller claims; 203.0.113.9 is the untrusted hop that reached the proxy.
        expect(await call("198.51.100.7, 203.0.113.9")).toBe("allowed");
        expect(await call("203.0.113.9")).toBe("limited");
        expect(await call("198.51.100.7")).toBe("allowed");
      });
    });

    it("reads X-Forwarded-For sent as several header lines as one chain, in order", async () => {
      await withServer(path, { trustProxy: [peer] }, async (call) => {
        expect(await call("198.51.100.7 | 203.0.113.9")).toBe("allowed");
        expect(await call("203.0.113.9")).toBe("limited");
        expect(await call("198.51.100.7")).toBe("allowed");
      });
    });

    it("walks back through every trusted proxy of the chain (addresses and CIDR ranges)", async () => {
      await withServer(path, { trustProxy: [peer, "10.0.0.0/8"] }, async (call) => {
        expect(await call("198.51.100.7, 10.1.2.3, 10.0.0.1")).toBe("allowed");
        expect(await call("198.51.100.7")).toBe("limited");
        expect(await call("10.1.2.3")).toBe("allowed");
      });
    });
  });
}

describe("TRUST_PROXY", () => {
  it("is read as a comma-separated list, each entry trimmed", () => {
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 10.0.0.0/8 ,loopback" }).trustProxy).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
      "loopback",
    ]);
  });

  it("trusts no proxy when unset", () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
  });

  it.each(["10.0.0.0/33", "proxy.internal", "127.0.0.1,not-an-address", "300.1.1.1"])(
    "refuses TRUST_PROXY=%s with a ConfigError naming TRUST_PROXY",
    (value) => {
      let error: unknown;
      try {
        loadConfig({ TRUST_PROXY: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).setting).toBe("TRUST_PROXY");
      expect((error as ConfigError).message).toMatch(/^TRUST_PROXY=/);
    },
  );
});
