import type { HandlerContext } from "@connectrpc/connect";
import { type Presence, presenceOfSignal } from "../waits/presence.js";
import { callerOf, connectionOf, ownerOf } from "./caller.js";

/**
 * What a handler needs to know of a unary call, whichever way it arrived: Connect's router (from
 * its HandlerContext, callOfContext) or the lean path (fast-path/), which makes no context.
 */
export interface RpcCall {
  /** Who calls, for rate limits and per-caller caps. */
  readonly caller: string;
  /** Whose jobs the call may see. */
  readonly owner: string;
  /** Time left before the caller's deadline when the call arrived, in ms; undefined for none. */
  readonly timeoutMs: number | undefined;
  /** Whether the caller is still there; read only by held calls (long waits, claims). */
  readonly presence: Presence;
  /** The connection the call came on (see connectionKey). */
  readonly connection?: object;
}

/** The call a Connect handler context describes. */
export function callOfContext(ctx: HandlerContext): RpcCall {
  return {
    caller: callerOf(ctx),
    owner: ownerOf(ctx),
    timeoutMs: ctx.timeoutMs(),
    presence: presenceOfSignal(ctx.signal),
    connection: connectionOf(ctx),
  };
}

/** A unary method apart from any transport: what the Connect handler and the lean path both call. */
export type RpcHandler<Request, Response> = (req: Request, call: RpcCall) => Promise<Response>;
