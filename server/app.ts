import type { Http2ServerRequest } from "node:http2";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ContextValues, createContextValues } from "@connectrpc/connect";
import fastifyCors from "@fastify/cors";
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { descriptorSet } from "../gen/descriptor_set.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../gen/google/rpc/status_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { WorkerService } from "../gen/jobs/v1/worker_service_pb.js";
import { leanGetStatus } from "./fast-path/lean-get-status.js";
import { leanMethod } from "./fast-path/lean-method.js";
import { createLeanUnary } from "./fast-path/lean-unary.js";
import { createHealthService } from "./grpc/health-service.js";
import { registerReflection } from "./grpc/reflection.js";
import { observeCalls } from "./metrics/rpc-metrics.js";
import { ServerMetrics } from "./metrics/server-metrics.js";
import { type Audience, type CallPolicy, createCallPolicy, type RequestHeaders } from "./policy/call-policy.js";
import { createCorsPolicy } from "./policy/cors-policy.js";
import type { WorkQueueEvents } from "./queues/work-queue.js";
import { resolveServiceSettings, type ServerOptions } from "./server-options.js";
import { callerKey, connectionKey, ownerKey } from "./service/caller.js";
import { createJobService } from "./service/job-service.js";
import { untilAvailable } from "./stores/job-backend.js";
import { createMemoryBackend } from "./stores/memory-backend.js";
import { createRedisBackend } from "./stores/redis-backend.js";
import { connectRoutes } from "./transport/connect-routes.js";
import { createOnePortServer, type FastPath, type OnePortServer } from "./transport/one-port-server.js";
import { DEFAULT_PAGE_DIR, pageRoutes } from "./transport/page-routes.js";
import { protocolErrorAnswer } from "./transport/protocol-error.js";
import { EvictionBackoff } from "./waits/eviction-backoff.js";
import { HeldWaits } from "./waits/held-waits.js";
import { ProgressCoalescer } from "./work/progress-coalescer.js";
import { createWorkerService, type WorkerServiceParts } from "./work/worker-service.js";

/** Evictions are logged at most this often, with their count since the last line. */
const EVICTION_LOG_INTERVAL_MS = 10_000;
/** The longest start waits for its backend (Redis) to be reached; it starts NOT_SERVING after. */
const BACKEND_WAIT_MS = 1_000;

/**
 * Builds the job server: JobService over Connect, gRPC and gRPC-Web on one port (HTTP/1.1 and
 * HTTP/2 cleartext), gRPC health and reflection, the browser page at `/`, CORS for browsers, rate
 * limits and optional fault injection. Returns it unstarted; call `listen()` and, at the end,
 * `close()`, which answers held waits at once and never hangs.
 */
export function buildServer(options: ServerOptions = {}): FastifyInstance {
  const settings = resolveServiceSettings(options);
  const clock = options.clock ?? Date;
  const evictionBackoff = new EvictionBackoff({ maxMs: settings.maxWaitMs, random: options.random });
  let evictionsLogged = 0;
  let evictionLoggedAt = -Infinity;
  const heldWaits =
    options.heldWaits ??
    new HeldWaits({
      maxPerCaller: settings.maxWaitsPerCaller,
      maxTotal: settings.maxHeldWaits,
      // Counted in the metrics; in the log once in a while, however many there are.
      onEvict: ({ held, total }) => {
        evictionBackoff.record();
        metrics.evicted();
        if (performance.now() - evictionLoggedAt >= EVICTION_LOG_INTERVAL_MS) {
          app.log.warn(
            { heldWaits: held, evictions: total, since: total - evictionsLogged, pollHintMs: evictionBackoff.levelMs() },
            "at MAX_HELD_WAITS: answering the oldest held waits early",
          );
          evictionsLogged = total;
          evictionLoggedAt = performance.now();
        }
      },
    });
  const health = createHealthService({
    statuses: {
      "": ServingStatus.SERVING,
      [JobService.typeName]: ServingStatus.SERVING,
      [WorkerService.typeName]: ServingStatus.SERVING,
    },
  });
  const policy = createCallPolicy({
    apiKeys: options.apiKeys ?? [],
    workerKeys: options.workerKeys ?? [],
    faultRate: settings.faultRate,
    trustProxy: options.trustProxy,
    random: options.random,
  });
  const cors = createCorsPolicy(options.corsOrigins);

  const metrics = new ServerMetrics({
    heldWaits: () => heldWaits.size,
    jobCounts: () => backend.store.counts(),
    queueDepths: () => backend.work.depths(),
    heldClaims: () => worker.heldClaims(),
  });
  const onRateLimited = (limit: string): void => metrics.rateLimited(limit);
  const onError = (error: unknown, jobId?: string): void => {
    app.log.error({ err: error, jobId }, jobId === undefined ? "job backend failure" : "could not finish job");
  };
  // The queue is made with the backend, before the service that handles what it tells.
  const workEvents: WorkQueueEvents = {
    onLeaseExpired: (jobId) => {
      metrics.work.leaseExpired();
      worker.leaseExpired(jobId).catch((error: unknown) => onError(error, jobId));
    },
    onError: (error, jobId) => onError(error, jobId),
  };
  const backend =
    options.redis !== undefined && options.store === undefined
      ? createRedisBackend({ ...options.redis, settings, clock, onError, onRateLimited, workEvents })
      : createMemoryBackend({ settings, clock, store: options.store, onError, onRateLimited, workEvents });
  // While the backend is away (Redis down) health says NOT_SERVING, and the log says so once.
  const serving = (available: boolean): void => {
    const status = available ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    health.setStatus(JobService.typeName, status);
    health.setStatus(WorkerService.typeName, status);
  };
  if (backend.availability !== undefined) {
    serving(backend.availability.available);
    backend.availability.onChange((available) => {
      serving(available);
      if (available) {
        app.log.info("job backend available");
      } else {
        app.log.warn("job backend unavailable: calls fail with UNAVAILABLE until it is back");
      }
    });
  }
  const service = createJobService({
    store: backend.store,
    runner: backend.runner,
    clock,
    limits: backend.limits,
    maxWaitMs: settings.maxWaitMs,
    maxJobDurationMs: settings.maxJobDurationMs,
    heldWaits,
    evictedHintMs: () => evictionBackoff.hintMs(),
    onWake: (job) => metrics.wake(Date.now() - (job.updateTime === undefined ? Date.now() : timestampMs(job.updateTime))),
    queue: backend.work,
    maxPayloadBytes: settings.maxPayloadBytes,
    maxWatchedJobsPerCaller: settings.maxWatchedJobsPerCaller,
  });
  const progress = new ProgressCoalescer({ store: backend.store, clock, onError });
  const worker: WorkerServiceParts = createWorkerService({
    store: backend.store,
    queue: backend.work,
    clock,
    heldWaits,
    progress,
    maxWaitMs: settings.maxWaitMs,
    defaultLeaseMs: settings.defaultLeaseMs,
    maxLeaseMs: settings.maxLeaseMs,
    maxPayloadBytes: settings.maxPayloadBytes,
    onClaimed: (_job, sinceCreateMs) => metrics.work.claimed(sinceCreateMs),
    onRetried: () => metrics.work.attemptRetried(),
    onError,
    available: () => backend.availability?.available ?? true,
  });
  // Every call ends here, whichever path served it: counted, and logged (failures at info).
  const callEnded = (method: string, code: Code | undefined, seconds: number): void => {
    metrics.rpc(method, code, seconds);
    if (code === undefined) {
      app.log.debug({ rpc: method, ms: seconds * 1000 }, "rpc answered");
    } else {
      app.log.info({ rpc: method, code: Code[code], ms: seconds * 1000 }, "rpc failed");
    }
  };

  const fastPaths: FastPath[] = [];
  // The lean path (fast-path/): without this statement the router answers every call, the same
  // way (the parity suites compare the two).
  if (options.leanPath !== false) {
    const methods = [
      leanGetStatus(service.getStatus),
      leanMethod(JobService.method.createJob, "jobs", service.createJob),
      leanMethod(WorkerService.method.claimJob, "work", worker.claimJob),
      leanMethod(WorkerService.method.completeJob, "work", worker.completeJob),
    ];
    fastPaths.push(createLeanUnary({ methods, policy, cors, readMaxBytes: settings.maxBodyBytes, callEnded }));
  }

  let onePort: OnePortServer | undefined;
  const app = fastify({
    logger: options.logger ?? false,
    // Every RPC is logged once, on either path, by callEnded: not again by Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.maxBodyBytes,
    // Closing answers in each caller's protocol (UNAVAILABLE, NOT_SERVING), not with Fastify's 503 page.
    return503OnClosing: false,
    // A URL Fastify cannot read still gets an answer in the caller's protocol.
    frameworkErrors: (error, request, reply) => {
      // Before any hook: the CORS headers are not on the reply yet.
      const origin = request.headers.origin;
      void reply.headers(cors.headers(typeof origin === "string" ? origin : null));
      answerError(request, reply, new ConnectError(`the request cannot be read: ${error.message}`, Code.InvalidArgument));
    },
    // One port for HTTP/1.1 (browsers, curl: Connect, gRPC-Web) and HTTP/2 cleartext (gRPC),
    // the fast paths first.
    serverFactory: (handler) => {
      onePort = createOnePortServer({
        handler,
        fastPaths,
        maxStreamsPerConnection: settings.maxStreamsPerConnection,
        idleTimeoutMs: settings.idleTimeoutMs,
        requestTimeoutMs: settings.requestTimeoutMs,
        // Reflection is one bidirectional stream that a tool keeps open while it works.
        isOpenEnded: (path) => path.startsWith("/grpc.reflection."),
      });
      return onePort.server;
    },
  });
  void app.register(fastifyCors, cors.fastifyOptions);
  // In its own scope: it replaces the body parsers of the scope it is registered in.
  void app.register(connectRoutes, {
    routes: (router) => {
      router.service(JobService, service.impl);
      router.service(WorkerService, worker.impl);
      router.service(Health, health.impl);
      // Error details travel packed in a google.rpc.Status, which no method names: listed here so
      // that clients resolve them; the descriptor set adds the proto comments.
      registerReflection(router, [JobService, WorkerService, Health], {
        alsoDescribe: [file_google_rpc_error_details, file_google_rpc_status],
        descriptorSet,
      });
    },
    readMaxBytes: settings.maxBodyBytes,
    interceptors: [observeCalls(callEnded)],
    // JobService and WorkerService calls pass the call policy (closing, API keys, faults); health
    // and reflection stay open.
    admit: (request, rpcService) =>
      rpcService === JobService
        ? admitted(policy, request, "jobs")
        : rpcService === WorkerService
          ? admitted(policy, request, "work")
          : createContextValues(),
    onRefused: (method, error, startedAt) =>
      callEnded(`${method.parent.typeName}/${method.name}`, error.code, (performance.now() - startedAt) / 1000),
  });
  void app.register(pageRoutes, { dir: options.pageDir ?? DEFAULT_PAGE_DIR });
  app.get("/metrics", async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  // No route: an unknown service or method, answered in the caller's protocol.
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    answerError(request, reply, new ConnectError(`no service or method at ${path}`, Code.Unimplemented), 404);
  });

  // Held waits and watches answer now, new calls are refused, and clients are told to go; after
  // SHUTDOWN_GRACE (load balancers see NOT_SERVING) and the answers in flight (up to
  // DRAIN_TIMEOUT), whatever is still connected is cut, so close() always ends.
  app.addHook("preClose", async () => {
    health.shutdown();
    policy.close();
    heldWaits.releaseAll();
    onePort?.drain();
    if (settings.shutdownGraceMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, settings.shutdownGraceMs));
    }
    await onePort?.drained(settings.drainTimeoutMs);
    onePort?.destroyConnections();
  });
  // Stops taking work; on Redis, jobs not yet finished stay there for the other instances.
  app.addHook("onClose", async () => {
    progress.close();
    await backend.close();
  });
  app.addHook("onReady", () => untilAvailable(backend.availability, BACKEND_WAIT_MS));
  return app;
}

/** The context values of an admitted JobService call: who calls, and whose jobs it sees. */
function admitted(policy: CallPolicy, request: FastifyRequest, audience: Audience): ContextValues {
  const headers: RequestHeaders = {
    header(name) {
      const value = request.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
  const { caller, owner } = policy.admit(headers, request.raw.socket.remoteAddress, audience);
  // The HTTP/2 session, not the compatibility API's per-request socket proxy.
  const raw = request.raw as FastifyRequest["raw"] | Http2ServerRequest;
  const connection = "stream" in raw ? raw.stream.session : raw.socket;
  return createContextValues().set(callerKey, caller).set(ownerKey, owner).set(connectionKey, connection);
}

function answerError(request: FastifyRequest, reply: FastifyReply, error: ConnectError, httpStatus?: number): void {
  const contentType = request.headers["content-type"];
  const answer = protocolErrorAnswer(typeof contentType === "string" ? contentType : undefined, error, httpStatus);
  const raw = request.raw as FastifyRequest["raw"] | Http2ServerRequest;
  if (answer.body === undefined && "stream" in raw) {
    // gRPC's trailers-only answer: one HEADERS frame that ends the stream, which Fastify's reply
    // over the HTTP/2 compatibility API does not write (it ends with an empty DATA frame).
    const headers: Record<string, string | number | string[]> = { ":status": answer.status, ...answer.headers };
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined && headers[name] === undefined) {
        headers[name] = typeof value === "number" ? String(value) : value;
      }
    }
    void reply.hijack();
    raw.stream.respond(headers, { endStream: true });
    raw.resume();
    return;
  }
  void reply
    .code(answer.status)
    .headers(answer.headers)
    .send(answer.body === undefined ? undefined : Buffer.from(answer.body));
}
