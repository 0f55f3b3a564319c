import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

export interface HealthServiceOptions {
  /**
   * The statuses known from the start, by service name; "" is the server as a whole.
   * @default { "": ServingStatus.SERVING }
   */
  statuses?: Readonly<Record<string, ServingStatus>>;
}

/** gRPC health checking for one server: the handlers, and the switches that drive them. */
export interface HealthService {
  /** The grpc.health.v1.Health handlers: `router.service(Health, health.impl)`. */
  readonly impl: ServiceImpl<typeof Health>;
  /** The Watch streams open now. */
  readonly openWatches: number;
  /**
   * Sets the status of `service` ("" for the server as a whole) and tells its watchers.
   * Ignored after shutdown(), so a late update cannot make a closing server look healthy.
   */
  setStatus(service: string, status: ServingStatus): void;
  /**
   * Sets every known status NOT_SERVING, sends that to every watcher and then ends their
   * streams; a Watch that starts afterwards gets one answer and ends. Safe to call twice.
   */
  shutdown(): void;
}

/**
 * The grpc.health.v1.Health service, as load balancers, Kubernetes gRPC probes and
 * grpc-health-probe expect it: Check fails with NOT_FOUND for an unknown service; Watch sends
 * the status at once (SERVICE_UNKNOWN for an unknown service) and then every change.
 *
 * @example
 * const health = createHealthService();
 * router.service(Health, health.impl);
 * app.addHook("preClose", async () => health.shutdown());
 */
export function createHealthService(options: HealthServiceOptions = {}): HealthService {
  const statuses = new Map(Object.entries(options.statuses ?? { "": ServingStatus.SERVING }));
  // The wake-up of each open Watch, by the service it watches.
  const watchers = new Map<string, Set<() => void>>();
  let closed = false;

  const statusOf = (service: string) => statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
  const wake = (service: string): void => {
    for (const wakeUp of watchers.get(service) ?? []) {
      wakeUp();
    }
  };

  function addWatcher(service: string, wakeUp: () => void): () => void {
    const set = watchers.get(service) ?? new Set();
    watchers.set(service, set);
    set.add(wakeUp);
    return () => {
      set.delete(wakeUp);
      if (set.size === 0 && watchers.get(service) === set) {
        watchers.delete(service);
      }
    };
  }

  const impl: ServiceImpl<typeof Health> = {
    check(req) {
      const status = statuses.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
      }
      return create(HealthCheckResponseSchema, { status });
    },

    async *watch(req, ctx) {
      if (ctx.signal.aborted) {
        return;
      }
      let changed = () => {};
      const unwatch = addWatcher(req.service, () => changed());
      // Forgotten on abort at once, not only in `finally`: a generator paused at `yield` is never
      // resumed when its caller goes away (so it is with createRouterTransport).
      const stop = () => {
        unwatch();
        ctx.signal.removeEventListener("abort", stop);
        changed();
      };
      ctx.signal.addEventListener("abort", stop);
      try {
        let sent: ServingStatus | undefined;
        for (;;) {
          // Armed before the status is read, so a change landing in between is never missed.
          const next = new Promise<void>((resolve) => {
            changed = resolve;
          });
          const status = statusOf(req.service);
          if (status !== sent) {
            sent = status;
            yield create(HealthCheckResponseSchema, { status });
            // It may have changed while the caller was reading: look again before waiting.
            continue;
          }
          if (closed || ctx.signal.aborted) {
            return;
          }
          await next;
        }
      } finally {
        stop();
      }
    },
  };

  return {
    impl,
    get openWatches() {
      let count = 0;
      for (const set of watchers.values()) {
        count += set.size;
      }
      return count;
    },
    setStatus(service, status) {
      if (closed || statuses.get(service) === status) {
        return;
      }
      statuses.set(service, status);
      wake(service);
    },
    shutdown() {
      if (closed) {
        return;
      }
      closed = true;
      for (const service of statuses.keys()) {
        statuses.set(service, ServingStatus.NOT_SERVING);
      }
      // Every watcher, also of unknown services: each sends its last change, then ends.
      [...watchers.keys()].forEach(wake);
    },
  };
}
