import fastifyCors from "@fastify/cors";
import { cors as connectCors, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import fastify, { type FastifyInstance } from "fastify";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { callerKey } from "./caller.js";
import { createFaultInjector } from "./fault-injector.js";
import { createHealthService } from "./grpc-health.js";
import { registerReflection } from "./grpc-reflection.js";
import { HeldWaits } from "./held-waits.js";
import { createInFlightRequests } from "./in-flight-requests.js";
import { createJobService } from "./job-service.js";
import { createMemoryJobStore } from "./memory-job-store.js";
import { createOnePortServer } from "./one-port-server.js";
import { DEFAULT_PAGE_DIR, pageRoutes } from "./page-routes.js";
import { createRateLimits } from "./rate-limits.js";
import { refuseWhenClosing } from "./refuse-when-closing.js";
import { resolveServiceSettings, type ServerOptions } from "./server-options.js";
import { createTimerJobRunner } from "./timer-job-runner.js";

/** The longest close() waits for answers in flight before it closes their connections anyway. */
const DRAIN_TIMEOUT_MS = 5_000;

/** Headers a browser may read from our answers: Connect's, gRPC-Web's and the rate-limit hint. */
const exposedHeaders = [...connectCors.exposedHeaders, "Retry-After"];

/**
 * Builds the job server: JobService over Connect, gRPC and gRPC-Web on one port (HTTP/1.1 and
 * HTTP/2 cleartext), gRPC health and reflection, the browser page at `/`, CORS for browsers, rate
 * limits and optional fault injection. Returns it unstarted; call `listen()` and, at the end,
 * `close()`, which answers held waits at once and never hangs.
 */
export function buildServer(options: ServerOptions = {}): FastifyInstance {
  const settings = resolveServiceSettings(options);
  const clock = options.clock ?? Date;
  const store = options.store ?? createMemoryJobStore();
  const ownsStore = options.store === undefined;
  const heldWaits = options.heldWaits ?? new HeldWaits({ maxPerCaller: settings.maxWaitsPerCaller });
  const inFlight = createInFlightRequests();
  const health = createHealthService({
    statuses: { "": ServingStatus.SERVING, [JobService.typeName]: ServingStatus.SERVING },
  });
  let closing = false;

  const app = fastify({
    logger: options.logger ?? false,
    bodyLimit: settings.maxBodyBytes,
    // One port for HTTP/1.1 (browsers, curl: Connect, gRPC-Web) and HTTP/2 cleartext (gRPC).
    serverFactory: (handler) => createOnePortServer(inFlight.wrap(handler)),
  });
  const runner = createTimerJobRunner({
    store,
    clock,
    onError: (error, job) => app.log.error({ err: error, jobId: job.id }, "could not finish job"),
  });
  const service = createJobService({
    store,
    runner,
    clock,
    limits: createRateLimits(settings),
    maxWaitMs: settings.maxWaitMs,
    maxJobDurationMs: settings.maxJobDurationMs,
    heldWaits,
  });

  void app.register(fastifyCors, {
    origin: true,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization"],
    exposedHeaders,
    maxAge: 7200,
  });
  // In its own scope: the plugin replaces the body parsers of the scope it is registered in.
  void app.register(fastifyConnectPlugin, {
    routes: (router) => {
      // Refusal while closing and injected faults are JobService's: health must keep answering
      // (NOT_SERVING while closing) and reflection must keep describing the server.
      router.service(JobService, service, {
        interceptors: [
          refuseWhenClosing(() => closing),
          createFaultInjector({ rate: settings.faultRate, random: options.random }),
        ],
      });
      router.service(Health, health.impl);
      registerReflection(router, [JobService, Health]);
    },
    readMaxBytes: settings.maxBodyBytes,
    contextValues: (req) => createContextValues().set(callerKey, req.ip),
  });
  void app.register(pageRoutes, { dir: options.pageDir ?? DEFAULT_PAGE_DIR });

  // Held waits and watches answer now; once their answers are out, the connections are idle
  // and Fastify's close ends them instead of waiting for their keep-alive to run out.
  app.addHook("preClose", async () => {
    health.shutdown();
    closing = true;
    heldWaits.releaseAll();
    await inFlight.drained(DRAIN_TIMEOUT_MS);
  });
  app.addHook("onClose", async () => {
    await runner.close();
    if (ownsStore) {
      await store.close();
    }
  });
  return app;
}
