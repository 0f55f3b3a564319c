import { createServer } from "node:net";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { FastifyInstance } from "fastify";
import { JobClient, type JobClientOptions } from "../../client/index.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { buildServer } from "../../server/app.js";
import type { ServerOptions } from "../../server/server-options.js";

export interface RunningServer {
  app: FastifyInstance;
  /** Such as http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/** Starts a server on a random port of 127.0.0.1. Close it when done. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const app = buildServer(options);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") {
    throw new Error("the server has no TCP address");
  }
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** Counts the RPCs a client sends, by method name, and the failures by code. */
export interface CallCounter {
  interceptor: Interceptor;
  calls: Map<string, number>;
  failures: Map<number, number>;
  total(method?: string): number;
}

export function countCalls(): CallCounter {
  const calls = new Map<string, number>();
  const failures = new Map<number, number>();
  return {
    calls,
    failures,
    interceptor: (next) => async (req) => {
      calls.set(req.method.name, (calls.get(req.method.name) ?? 0) + 1);
      try {
        return await next(req);
      } catch (error) {
        const code = (error as { code?: number }).code ?? -1;
        failures.set(code, (failures.get(code) ?? 0) + 1);
        throw error;
      }
    },
    total(method) {
      return method === undefined ? [...calls.values()].reduce((a, b) => a + b, 0) : (calls.get(method) ?? 0);
    },
  };
}

/** A JobClient over Connect (fetch) to `url`, counting its calls. */
export function clientFor(
  url: string,
  options: Omit<JobClientOptions, "baseUrl" | "transport"> = {},
): { client: JobClient; counter: CallCounter } {
  const counter = countCalls();
  const transport = createConnectTransport({ baseUrl: url, interceptors: [counter.interceptor] });
  return { client: new JobClient({ ...options, transport }), counter };
}

/**
 * A Connect transport to `url` with no retries of its own, sending `apiKey` (when given) as
 * `authorization: Bearer <key>` on every call: what the generated clients of the tests use.
 */
export function wireTransport(url: string, apiKey?: string): Transport {
  const withKey: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
  return createConnectTransport({ baseUrl: url, interceptors: apiKey === undefined ? [] : [withKey] });
}

/** The generated Connect client, without JobClient's retries, for asserting on the wire. */
export function rawClient(url: string, apiKey?: string): Client<typeof JobService> {
  return createClient(JobService, wireTransport(url, apiKey));
}

/** POSTs a Connect JSON request and returns the HTTP answer. */
export async function postJson(
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/jobs.v1.JobService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** A port on 127.0.0.1 that no server listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") {
    throw new Error("no TCP address");
  }
  return address.port;
}
