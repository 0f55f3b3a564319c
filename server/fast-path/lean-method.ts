import { type DescMethodUnary, type MessageShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { Audience } from "../policy/call-policy.js";
import type { RpcHandler } from "../service/rpc-call.js";
import { parseMessage } from "../transport/parse-message.js";
import type { LeanMethod } from "./lean-unary.js";

const encoder = new TextEncoder();

/**
 * A unary method on the lean path, read strictly (parseMessage, as the router's strict input
 * reads it) and written by protobuf-es as the router writes it (toBinary; toJsonString with
 * Connect's defaults).
 */
export function leanMethod<M extends DescMethodUnary>(
  method: M,
  audience: Audience,
  call: RpcHandler<MessageShape<M["input"]>, MessageShape<M["output"]>>,
): LeanMethod {
  return {
    method,
    audience,
    read: (bytes, binary) => parseMessage(method.input, bytes, binary),
    call,
    write: (response: MessageShape<M["output"]>, binary) =>
      binary ? toBinary(method.output, response) : encoder.encode(toJsonString(method.output, response)),
  };
}
