import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * Who is calling, for per-caller limits: the API key's id when keys are on, else the peer
 * address. Set by the server for every request.
 */
export const callerKey = createContextKey<string>("unknown", { description: "the caller's identity" });

/**
 * Whose jobs a call may see: the API key's id when keys are on, else "" (one shared space).
 * Set by the server for every request.
 */
export const ownerKey = createContextKey<string>("", { description: "the owner of the caller's jobs" });

/** The caller of the call in `ctx`. */
export function callerOf(ctx: HandlerContext): string {
  return ctx.values.get(callerKey);
}

/** The owner whose jobs the call in `ctx` may see. */
export function ownerOf(ctx: HandlerContext): string {
  return ctx.values.get(ownerKey);
}
