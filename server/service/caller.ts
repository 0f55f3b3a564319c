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

/**
 * The connection a call came on (its socket, or its HTTP/2 session): what tells one caller's calls
 * apart from another's behind the same address, for the rate limits' promised retry times.
 */
export const connectionKey = createContextKey<object | undefined>(undefined, { description: "the call's connection" });

/** The connection of the call in `ctx`, if the server set it. */
export function connectionOf(ctx: HandlerContext): object | undefined {
  return ctx.values.get(connectionKey);
}

/** The caller of the call in `ctx`. */
export function callerOf(ctx: HandlerContext): string {
  return ctx.values.get(callerKey);
}

/** The owner whose jobs the call in `ctx` may see. */
export function ownerOf(ctx: HandlerContext): string {
  return ctx.values.get(ownerKey);
}
