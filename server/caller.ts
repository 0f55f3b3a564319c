import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * Who is calling, for per-caller limits: the peer address for now (an API key once keys exist).
 * Set by the server for every request.
 */
export const callerKey = createContextKey<string>("unknown", { description: "the caller's identity" });

/** The caller of the call in `ctx`. */
export function callerOf(ctx: HandlerContext): string {
  return ctx.values.get(callerKey);
}
