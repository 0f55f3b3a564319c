import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";
import type { ServerOptions } from "../../server/server-options.js";
import { postJson, type RunningServer, startServer } from "../support/start-server.js";
import { http1Request, type RawAnswer } from "../support/wire/raw-http.js";

// Browsers may call from the origins CORS_ORIGINS lists (any origin when unset), and read the
// Connect and gRPC-Web headers and Retry-After; the rule is the same on the lean GetStatus path
// and on Connect's router, for answers, errors and preflights alike.

const allowed = "https://app.example.com";
const other = "https://elsewhere.example.net";

interface Path {
  name: string;
  options: ServerOptions;
  method: "GetStatus" | "CreateJob";
}

const paths: Path[] = [
  { name: "GetStatus on the lean path (Connect JSON over HTTP/1.1)", options: {}, method: "GetStatus" },
  { name: "GetStatus on the router (lean path off)", options: { leanPath: false }, method: "GetStatus" },
  { name: "CreateJob on the router", options: {}, method: "CreateJob" },
];

/** Calls `method` as a browser at `origin` would (the answer's code does not matter here). */
async function call(server: RunningServer, method: string, origin: string, jobId: string): Promise<RawAnswer> {
  const body = method === "CreateJob" ? { processingDuration: "60s" } : { jobId };
  return http1Request({
    url: server.url,
    path: `/jobs.v1.JobService/${method}`,
    headers: { "content-type": "application/json", "connect-protocol-version": "1", origin },
    body: JSON.stringify(body),
  });
}

function preflight(server: RunningServer, method: string, origin: string): Promise<RawAnswer> {
  return http1Request({
    url: server.url,
    method: "OPTIONS",
    path: `/jobs.v1.JobService/${method}`,
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,connect-timeout-ms,authorization",
    },
  });
}

function list(header: string | undefined): string[] {
  return (header ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== "");
}

function expectReadableFrom(answer: RawAnswer, origin: string): void {
  expect(answer.headers["access-control-allow-origin"]).toBe(origin);
  expect(list(answer.headers["access-control-expose-headers"])).toEqual(
    expect.arrayContaining(["retry-after", "grpc-status", "grpc-message"]),
  );
  expect(list(answer.headers.vary)).toContain("origin");
}

async function withServer(
  path: Path,
  options: ServerOptions,
  run: (server: RunningServer, jobId: string) => Promise<void>,
): Promise<void> {
  const server = await startServer({ shortPollRate: 0, createRate: 0, ...path.options, ...options });
  try {
    const created = await postJson(server.url, "CreateJob", { processingDuration: "60s" });
    await run(server, (created.body.job as { id: string }).id);
  } finally {
    await server.close();
  }
}

for (const path of paths) {
  describe(`CORS: ${path.name}`, () => {
    it(`with corsOrigins [${allowed}], lets that origin read the answer and its headers, and no other origin`, async () => {
      await withServer(path, { corsOrigins: [allowed] }, async (server, jobId) => {
        const answer = await call(server, path.method, allowed, jobId);
        expect(answer.status).toBe(200);
        expectReadableFrom(answer, allowed);
        const elsewhere = await call(server, path.method, other, jobId);
        expect(elsewhere.headers["access-control-allow-origin"]).toBeUndefined();
        // Caches must not hand one origin's answer to another.
        expect(list(elsewhere.headers.vary)).toContain("origin");
      });
    });

    it(`with corsOrigins [${allowed}], answers that origin's preflight with 204 and the methods and headers allowed, and no other origin's`, async () => {
      await withServer(path, { corsOrigins: [allowed] }, async (server) => {
        const answer = await preflight(server, path.method, allowed);
        expect(answer.status).toBe(204);
        expect(answer.headers["access-control-allow-origin"]).toBe(allowed);
        expect(list(answer.headers["access-control-allow-methods"])).toEqual(expect.arrayContaining(["post", "get"]));
        expect(list(answer.headers["access-control-allow-headers"])).toEqual(
          expect.arrayContaining(["content-type", "connect-protocol-version", "connect-timeout-ms", "authorization"]),
        );
        const elsewhere = await preflight(server, path.method, other);
        expect(elsewhere.headers["access-control-allow-origin"]).toBeUndefined();
        expect(elsewhere.headers["access-control-allow-methods"]).toBeUndefined();
      });
    });

    it(`with corsOrigins [${allowed}], lets that origin read a refusal and its Retry-After, and no other origin`, async () => {
      const limit = path.method === "CreateJob" ? { createRate: 0.01 } : { shortPollRate: 0.01 };
      const server = await startServer({ ...path.options, corsOrigins: [allowed], shortPollRate: 0, createRate: 0, ...limit });
      try {
        // GetStatus needs a job, made before its limit bites; CreateJob's limit is spent by its first call.
        const created =
          path.method === "GetStatus" ? await postJson(server.url, "CreateJob", { processingDuration: "60s" }) : undefined;
        const jobId = (created?.body.job as { id: string } | undefined)?.id ?? "";
        expect((await call(server, path.method, allowed, jobId)).status).toBe(200);
        const refused = await call(server, path.method, allowed, jobId);
        expect(refused.status).toBe(429);
        expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
        expectReadableFrom(refused, allowed);
        const elsewhere = await call(server, path.method, other, jobId);
        expect(elsewhere.status).toBe(429);
        expect(elsewhere.headers["access-control-allow-origin"]).toBeUndefined();
      } finally {
        await server.close();
      }
    });

    it("without corsOrigins, reflects any origin", async () => {
      await withServer(path, {}, async (server, jobId) => {
        for (const origin of [allowed, other, "http://localhost:5173"]) {
          const answer = await call(server, path.method, origin, jobId);
          expect(answer.status).toBe(200);
          expectReadableFrom(answer, origin);
        }
        const asked = await preflight(server, path.method, other);
        expect(asked.status).toBe(204);
        expect(asked.headers["access-control-allow-origin"]).toBe(other);
      });
    });
  });
}

describe("CORS_ORIGINS", () => {
  it("is read as a comma-separated list of origins, each trimmed", () => {
    expect(loadConfig({ CORS_ORIGINS: `${allowed}, http://localhost:5173` }).corsOrigins).toEqual([
      allowed,
      "http://localhost:5173",
    ]);
  });

  it("allows any origin when unset", () => {
    expect(loadConfig({}).corsOrigins).toBeUndefined();
  });

  it.each(["app.example.com", "https://app.example.com/", "https://app.example.com/path"])(
    "refuses CORS_ORIGINS=%s (not an origin) with a ConfigError naming CORS_ORIGINS",
    (value) => {
      let error: unknown;
      try {
        loadConfig({ CORS_ORIGINS: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).setting).toBe("CORS_ORIGINS");
      expect((error as ConfigError).message).toMatch(/^CORS_ORIGINS=/);
    },
  );
});
