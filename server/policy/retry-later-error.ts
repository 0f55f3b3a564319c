import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

/**
 * A RESOURCE_EXHAUSTED error telling the caller when to retry, both ways clients read it: a
 * google.rpc.RetryInfo detail (exact) and a `retry-after` header (whole seconds, rounded up).
 */
export function retryLaterError(message: string, retryDelayMs: number): ConnectError {
  const delayMs = Math.max(1, Math.ceil(retryDelayMs));
  return new ConnectError(message, Code.ResourceExhausted, { "retry-after": String(Math.ceil(delayMs / 1000)) }, [
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(delayMs) }) },
  ]);
}
