import fastifyCors from "@fastify/cors";
import { Code, cors as connectCors, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import fastify, { type FastifyInstance } from "fastify";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { callerKey } from "./caller.js";
import { createCallPolicy } from "./call-policy.js";
import { createHealthService } from "./grpc-health.js";
import { registerReflection } from "./grpc-reflection.js";
import { HeldWaits } from "./held-waits.js";
import { createInFlightRequests } from "./in-flight-requests.js";
import { createJobService } from "./job-service.js";
import { createMemoryBackend } from "./memory-backend.js";
import { rpcMetrics } from "./rpc-metrics.js";
import { ServerMetrics } from "./server-metrics.js";
import { createOnePortServer } from "./one-port-server.js";
import { DEFAULT_PAGE_DIR, pageRoutes } from "./page-routes.js";
import { createRedisBackend } from "./redis-backend.js";
import { createLeanGetStatus } from "./lean-get-status.js";
import { requireApiKey } from "./require-api-key.js";
import { resolveServiceSettings, type ServerOptions } from "./server-options.js";

/** The longest close() waits for answers in flight before it closes their connections anyway. */
const DRAIN_TIMEOUT_MS = 5_000;

const GET_STATUS_METHOD = `${JobService.typeName}/${JobService.method.getStatus.name}`;

/** Headers a browser may read from our answers: Connect's, gRPC-Web's and the rate-limit hint. */
const exposedHeaders = [...connectCors.exposedHeaders, "Retry-After"];

/** The CORS headers @fastify/cors puts on every answer, for the answers that bypass Fastify. */
function corsHeaders(origin: string | null): Record<string, string> {
  const headers: Record<string, string> = { vary: "Origin" };
  if (origin !== null) {
    headers["access-control-allow-origin"] = origin;
  }
  headers["access-control-expose-headers"] = exposedHeaders.join(", ");
  return headers;
}

/**
 * Builds the job server: JobService over Connect, gRPC and gRPC-Web on one port (HTTP/1.1 and
 * HTTP/2 cleartext), gRPC health and reflection, the browser page at `/`, CORS for browsers, rate
 * limits and optional fault injection. Returns it unstarted; call `listen()` and, at the end,
 * `close()`, which answers held waits at once and never hangs.
 */
export function buildServer(options: ServerOptions = {}): FastifyInstance {
  const settings = resolveServiceSettings(options);
  const clock = options.clock ?? Date;
  const heldWaits =
    options.heldWaits ??
    new HeldWaits({
      maxPerCaller: settings.maxWaitsPerCaller,
      maxTotal: settings.maxHeldWaits,
      // Counted in the metrics and in the log, with a running total.
      onEvict: ({ held, total }) => {
        metrics.evicted();
        app.log.warn({ heldWaits: held, evictions: total }, "at MAX_HELD_WAITS: answered the oldest held wait early");
      },
    });
  const apiKeys = options.apiKeys ?? [];
  const inFlight = createInFlightRequests();
  const health = createHealthService({
    statuses: { "": ServingStatus.SERVING, [JobService.typeName]: ServingStatus.SERVING },
  });
  const policy = createCallPolicy({ apiKeys, faultRate: settings.faultRate, random: options.random });

  const metrics = new ServerMetrics({ heldWaits: () => heldWaits.size, jobCounts: () => backend.store.counts() });
  const onRateLimited = (limit: string): void => metrics.rateLimited(limit);
  const onError = (error: unknown, jobId?: string): void => {
    app.log.error({ err: error, jobId }, jobId === undefined ? "job backend failure" : "could not finish job");
  };
  const backend =
    options.redis !== undefined && options.store === undefined
      ? createRedisBackend({ ...options.redis, settings, clock, onError, onRateLimited })
      : createMemoryBackend({ settings, clock, store: options.store, onError, onRateLimited });
  const service = createJobService({
    store: backend.store,
    runner: backend.runner,
    clock,
    limits: backend.limits,
    maxWaitMs: settings.maxWaitMs,
    maxJobDurationMs: settings.maxJobDurationMs,
    heldWaits,
    onWake: (job) => metrics.wake(Date.now() - (job.updateTime === undefined ? Date.now() : timestampMs(job.updateTime))),
  });
  const lean = createLeanGetStatus({
    getStatus: service.getStatus,
    identify: policy.identify,
    admit: policy.admit,
    readMaxBytes: settings.maxBodyBytes,
    commonHeaders: corsHeaders,
    // GetStatus is most of the traffic: its answers are logged at debug (errors at info).
    onAnswered: (code, startedAt) => {
      const ms = performance.now() - startedAt;
      metrics.rpc(GET_STATUS_METHOD, code, ms / 1000);
      if (code === undefined) {
        app.log.debug({ rpc: GET_STATUS_METHOD, ms }, "rpc answered");
      } else {
        app.log.info({ rpc: GET_STATUS_METHOD, code: Code[code], ms }, "rpc failed");
      }
    },
  });
  const leanOn = options.leanGetStatus !== false;

  const app = fastify({
    logger: options.logger ?? false,
    bodyLimit: settings.maxBodyBytes,
    // One port for HTTP/1.1 (browsers, curl: Connect, gRPC-Web) and HTTP/2 cleartext (gRPC).
    // GetStatus in its common forms takes a lean path (same wire protocol) before Fastify.
    serverFactory: (handler) =>
      leanOn
        ? createOnePortServer(inFlight.wrap(lean.http1(handler)), (stream, headers) => {
            const taken = lean.http2(stream, headers);
            if (taken) {
              inFlight.track(stream);
            }
            return taken;
          })
        : createOnePortServer(inFlight.wrap(handler)),
  });
  void app.register(fastifyCors, {
    origin: true,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization", "X-Api-Key"],
    exposedHeaders,
    maxAge: 7200,
  });
  // In its own scope: the plugin replaces the body parsers of the scope it is registered in.
  void app.register(fastifyConnectPlugin, {
    routes: (router) => {
      // Refusal while closing and injected faults are JobService's: health must keep answering
      // (NOT_SERVING while closing) and reflection must keep describing the server.
      router.service(JobService, service.impl, {
        // With API keys, only calls presenting one get in (checked before the body is read), and
        // the key's id replaces the peer address as caller and owner. Health and reflection stay open.
        requestGate: apiKeys.length > 0 ? requireApiKey(apiKeys) : undefined,
        // These replace the router's interceptors for this service, so the metrics come again.
        interceptors: [
          rpcMetrics(metrics),
          (next) => (req) => {
            policy.admit();
            return next(req);
          },
        ],
      });
      router.service(Health, health.impl);
      registerReflection(router, [JobService, Health]);
    },
    readMaxBytes: settings.maxBodyBytes,
    interceptors: [rpcMetrics(metrics)],
    // The peer address is the caller (the owner stays "", one shared space) unless API keys are on.
    contextValues: (req) => createContextValues().set(callerKey, req.ip),
  });
  void app.register(pageRoutes, { dir: options.pageDir ?? DEFAULT_PAGE_DIR });
  app.get("/metrics", async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // Held waits and watches answer now; once their answers are out, the connections are idle
  // and Fastify's close ends them instead of waiting for their keep-alive to run out.
  app.addHook("preClose", async () => {
    health.shutdown();
    policy.close();
    heldWaits.releaseAll();
    await inFlight.drained(DRAIN_TIMEOUT_MS);
  });
  // Stops taking work; on Redis, jobs not yet finished stay there for the other instances.
  app.addHook("onClose", () => backend.close());
  return app;
}
