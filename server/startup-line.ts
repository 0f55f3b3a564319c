import type { FastifyInstance } from "fastify";
import type { ServerConfig } from "./config.js";
import { formatDurationText } from "./duration-text.js";

/** The address the server listens on, as a URL a person can paste. */
function baseUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === "string") {
    return String(address);
  }
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function rate(perSecond: number): string {
  return perSecond === 0 ? "unlimited" : `${perSecond}/s`;
}

/** The one line a server logs once it listens: what it serves, with what limits, where to look next. */
export function startupLine(app: FastifyInstance, config: ServerConfig): string {
  const url = baseUrl(app);
  const store = config.jobStore === "redis" ? "Redis (REDIS_URL)" : "memory (this process only)";
  const keys = config.apiKeys.length > 0 ? `${config.apiKeys.length} API key(s) required` : "open (no API keys)";
  return (
    `serving jobs.v1.JobService and WorkerService at ${url}: Connect, gRPC and gRPC-Web over HTTP/1.1 and h2c; store ${store}; ${keys}; ` +
    `long waits up to ${formatDurationText(config.maxWaitMs)}; short polls ${rate(config.shortPollRate)}, creates ${rate(config.createRate)} per caller. ` +
    `The page: ${url}/  metrics: ${url}/metrics  reflection: npx buf curl --protocol grpc --http2-prior-knowledge --list-services ${url}`
  );
}

/** The same, as fields for JSON logs. */
export function startupSummary(app: FastifyInstance, config: ServerConfig): Record<string, unknown> {
  return {
    url: baseUrl(app),
    store: config.jobStore,
    apiKeys: config.apiKeys.length,
    maxWaitMs: config.maxWaitMs,
    shortPollRate: config.shortPollRate,
    createRate: config.createRate,
    maxHeldWaits: config.maxHeldWaits,
  };
}

/** Why the server could not listen, and what to set instead: the line it logs before it exits. */
export function listenFailureLine(error: unknown, config: Pick<ServerConfig, "host" | "port">): string {
  const where = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  switch ((error as { code?: unknown } | undefined)?.code) {
    case "EADDRINUSE":
      return `could not listen on ${where}: the port is in use (set PORT to another one, or PORT=0 for any free port)`;
    case "EACCES":
      return `could not listen on ${where}: not allowed (a port below 1024 needs privileges: set PORT)`;
    case "EADDRNOTAVAIL":
      return `could not listen on ${where}: no network interface here has that address (set HOST)`;
    default:
      return `could not listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
