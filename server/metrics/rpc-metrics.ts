import { ConnectError, type Interceptor } from "@connectrpc/connect";
import type { ServerMetrics } from "./server-metrics.js";

/**
 * Counts every RPC that goes through Connect's router, by method and code, with its duration;
 * a stream is counted when it ends.
 */
export function rpcMetrics(metrics: ServerMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const done = (error?: unknown): void =>
      metrics.rpc(method, error === undefined ? undefined : ConnectError.from(error).code, (performance.now() - started) / 1000);
    let res;
    try {
      res = await next(req);
    } catch (error) {
      done(error);
      throw error;
    }
    if (!res.stream) {
      done();
      return res;
    }
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        let failure: { error: unknown } | undefined;
        try {
          yield* messages;
        } catch (error) {
          failure = { error };
          throw error;
        } finally {
          // Also when the caller stops reading early: the stream ended, as far as we serve it.
          done(failure?.error);
        }
      })(),
    };
  };
}
