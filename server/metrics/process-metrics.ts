import { collectDefaultMetrics, Registry } from "prom-client";

let registry: Registry | undefined;

/**
 * The process's own metrics (CPU, memory, event loop lag, GC, handles), in a registry shared by
 * every server of the process. prom-client's collectors cannot be stopped once started (the
 * event-loop monitor samples every 10 ms, the GC observer stays attached), so they are started
 * once per process, on first use, rather than once per server built.
 */
export function processMetrics(): Registry {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
