import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { anyUnpack, durationMs } from "@bufbuild/protobuf/wkt";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";
import type { RawAnswer } from "./raw-http.js";

/** What every retry delay becomes: the rest of the answer is compared as it came. */
export const RETRY_DELAY = "<retry delay>";

/**
 * `answer` with its retry delays replaced by RETRY_DELAY: the `retry-after` header, the
 * google.rpc.RetryInfo detail (Connect's JSON error body: its `value` and `debug`; gRPC's
 * `grpc-status-details-bin` trailer, decoded) and, when the body changed, its Content-Length
 * (the delay's encoding has no fixed length). A rate limit's delay is the time left until the
 * caller's next token, so two answers refused a moment apart never carry the same one. Each
 * delay replaced must be there and positive: an answer without one is left as it is, and differs.
 */
export function withoutRetryDelays(answer: RawAnswer): RawAnswer {
  const headers = { ...answer.headers };
  const trailers = { ...answer.trailers };
  for (const fields of [headers, trailers]) {
    if (fields["retry-after"] !== undefined && /^[1-9]\d*$/.test(fields["retry-after"])) {
      fields["retry-after"] = RETRY_DELAY;
    }
    const details = fields["grpc-status-details-bin"];
    if (details !== undefined) {
      fields["grpc-status-details-bin"] = statusWithoutDelays(details);
    }
  }
  const text = answer.body.toString("utf8");
  const normalised = retryDelaysIn(text).reduce((body, delay) => body.replaceAll(delay, JSON.stringify(RETRY_DELAY)), text);
  if (normalised === text) {
    return { ...answer, headers, trailers };
  }
  if (headers["content-length"] !== undefined) {
    headers["content-length"] = "<length>";
  }
  return { ...answer, headers, trailers, body: Buffer.from(normalised) };
}

/**
 * The JSON strings that carry a positive retry delay in a Connect error body: each RetryInfo
 * detail's `value` (base64) and its `debug.retryDelay`. None when the body is not such an error.
 */
function retryDelaysIn(text: string): string[] {
  let error: { details?: { type?: string; value?: string; debug?: { retryDelay?: string } }[] };
  try {
    error = JSON.parse(text) as typeof error;
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const detail of error.details ?? []) {
    if (detail.type !== RetryInfoSchema.typeName || detail.value === undefined) {
      continue;
    }
    const delay = fromBinary(RetryInfoSchema, base64Decode(detail.value)).retryDelay;
    if (delay !== undefined && durationMs(delay) > 0) {
      found.push(JSON.stringify(detail.value));
      if (detail.debug?.retryDelay !== undefined) {
        found.push(JSON.stringify(detail.debug.retryDelay));
      }
    }
  }
  return found;
}

/** A google.rpc.Status header as JSON, each RetryInfo detail with a positive delay shown as RETRY_DELAY. */
function statusWithoutDelays(header: string): string {
  const status = fromBinary(StatusSchema, base64Decode(header));
  const details = status.details.map((detail) => {
    const retryInfo = anyUnpack(detail, RetryInfoSchema);
    if (retryInfo === undefined) {
      return `${detail.typeUrl} ${Buffer.from(detail.value).toString("base64")}`;
    }
    return retryInfo.retryDelay !== undefined && durationMs(retryInfo.retryDelay) > 0
      ? RETRY_DELAY
      : toJsonString(RetryInfoSchema, retryInfo);
  });
  return JSON.stringify({ code: status.code, message: status.message, details });
}
