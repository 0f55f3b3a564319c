import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Refuses new calls with UNAVAILABLE once `isClosing()` is true, so that callers go elsewhere. */
export function refuseWhenClosing(isClosing: () => boolean): Interceptor {
  return (next) => (req) => {
    if (isClosing()) {
      throw new ConnectError("the server is shutting down", Code.Unavailable);
    }
    return next(req);
  };
}
