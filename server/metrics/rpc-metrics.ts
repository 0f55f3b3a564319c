import { type Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Told of each call as it ends: "package.Service/Method", its code (undefined for OK), its duration. */
export type CallEnded = (method: string, code: Code | undefined, seconds: number) => void;

/**
 * Tells `callEnded` of every RPC that goes through Connect's router, by method and code, with its
 * duration; a stream when it ends.
 */
export function observeCalls(callEnded: CallEnded): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const done = (error?: unknown): void =>
      callEnded(method, error === undefined ? undefined : ConnectError.from(error).code, (performance.now() - started) / 1000);
    let res: Awaited<ReturnType<typeof next>>;
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
