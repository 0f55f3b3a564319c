import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Refuses new calls with UNAVAILABLE once `shutdownSignal` is aborted, so callers go elsewhere. */
export function refuseWhenClosing(shutdownSignal: AbortSignal): Interceptor {
  return (next) => (req) => {
    if (shutdownSignal.aborted) {
      throw new ConnectError("the server is shutting down", Code.Unavailable);
    }
    return next(req);
  };
}
