import fastifyCors from "@fastify/cors";
import { cors as connectCors, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import fastify, { type FastifyInstance } from "fastify";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { trackInFlightRequests } from "./in-flight-requests.js";
import { callerKey } from "./caller.js";
import { createFaultInjector } from "./fault-injector.js";
import { HeldWaits } from "./held-waits.js";
import { createJobService } from "./job-service.js";
import { createMemoryJobStore } from "./memory-job-store.js";
import { createRateLimits } from "./rate-limits.js";
import { refuseWhenClosing } from "./refuse-when-closing.js";
import { resolveServiceSettings, type ServerOptions } from "./server-options.js";
import { createTimerJobRunner } from "./timer-job-runner.js";

/** The longest close() waits for answers in flight before it closes their connections anyway. */
const DRAIN_TIMEOUT_MS = 5_000;

/** Headers a browser may read from our answers: Connect's, gRPC-Web's and the rate-limit hint. */
const exposedHeaders = [...connectCors.exposedHeaders, "Retry-After"];

/**
 * Builds the job server: JobService over Connect, gRPC and gRPC-Web, CORS for browsers, rate
 * limits and optional fault injection. Returns it unstarted; call `listen()` and, at the end,
 * `close()`, which answers held waits at once and never hangs.
 */
export function buildServer(options: ServerOptions = {}): FastifyInstance {
  const settings = resolveServiceSettings(options);
  const clock = options.clock ?? Date;
  const store = options.store ?? createMemoryJobStore();
  const ownsStore = options.store === undefined;
  const heldWaits = new HeldWaits();
  let closing = false;

  const app = fastify({ logger: options.logger ?? false, bodyLimit: settings.maxBodyBytes });
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
    routes: (router) => router.service(JobService, service),
    interceptors: [refuseWhenClosing(() => closing), createFaultInjector({ rate: settings.faultRate, random: options.random })],
    readMaxBytes: settings.maxBodyBytes,
    contextValues: (req) => createContextValues().set(callerKey, req.ip),
  });

  // Held waits and watches answer now; once their answers are out, the connections are idle
  // and Fastify's close ends them instead of waiting for their keep-alive to run out.
  const inFlight = trackInFlightRequests(app.server);
  app.addHook("preClose", async () => {
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
