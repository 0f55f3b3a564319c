import type { IncomingHttpHeaders } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { ENVELOPE_HEADER_BYTES } from "../transport/body-limit.js";
import { COMPRESSED_FLAG, compressedWithoutEncoding } from "../transport/parse-message.js";
import type { Exchange } from "./lean-exchange.js";

// The wire forms the lean path speaks: Connect unary (JSON or binary) and gRPC, uncompressed
// requests, written as Connect's own handlers write them (with its helpers for errors, status
// codes and trailers).

/** The forms of request the lean path takes. */
export type Kind = "json" | "proto" | "grpc";

/** Connect's default: answers from this size are compressed when the caller accepts it. */
const COMPRESS_MIN_BYTES = 1024;

/** The form of a request, if the lean path takes it: uncompressed Connect unary (JSON or binary), or gRPC over HTTP/2. */
export function leanKind(headers: IncomingHttpHeaders, http2: boolean): Kind | undefined {
  const type = headers["content-type"];
  if (http2 && (type === "application/grpc" || type === "application/grpc+proto")) {
    const encoding = headers["grpc-encoding"];
    return encoding === undefined || encoding === "identity" ? "grpc" : undefined;
  }
  const encoding = headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    return undefined;
  }
  if (type === "application/proto") {
    return "proto";
  }
  return type === "application/json" || (type !== undefined && /^application\/json;\s*charset=utf-?8$/i.test(type))
    ? "json"
    : undefined;
}

/**
 * The one length-prefixed message, uncompressed, that a unary gRPC request carries; a body framed
 * otherwise is refused with the code and words of Connect's own gRPC handler (the compressed
 * flag without grpc-encoding, which Connect calls INTERNAL, is INVALID_ARGUMENT on both paths:
 * see strict-input.ts).
 */
export function grpcRequestMessage(body: Uint8Array): Uint8Array {
  if (body.length === 0) {
    throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  }
  const length = envelopeLength(body, 0);
  if (length === undefined) {
    throw incompleteEnvelope();
  }
  if (((body[0] as number) & COMPRESSED_FLAG) !== 0) {
    throw compressedWithoutEncoding();
  }
  const end = ENVELOPE_HEADER_BYTES + length;
  if (body.length > end) {
    // Connect reads on: a whole second message is one too many, a part of one is incomplete.
    if (envelopeLength(body, end) === undefined) {
      throw incompleteEnvelope();
    }
    throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
  }
  return body.subarray(ENVELOPE_HEADER_BYTES, end);
}

/** The length of the envelope at `offset`, if all of it is in `body`. */
function envelopeLength(body: Uint8Array, offset: number): number | undefined {
  if (body.length < offset + ENVELOPE_HEADER_BYTES) {
    return undefined;
  }
  const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0);
  return body.length < offset + ENVELOPE_HEADER_BYTES + length ? undefined : length;
}

function incompleteEnvelope(): ConnectError {
  return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
}

export async function sendConnect(
  exchange: Exchange,
  headers: Record<string, string>,
  kind: Kind,
  compression: Compression | null,
  bytes: Uint8Array,
): Promise<void> {
  let body = bytes;
  headers["content-type"] = kind === "json" ? "application/json" : "application/proto";
  if (compression !== null && body.byteLength >= COMPRESS_MIN_BYTES) {
    body = await compression.compress(body);
    headers["content-encoding"] = compression.name;
  }
  headers["content-length"] = String(body.byteLength);
  exchange.send(200, headers, body);
}

export function sendConnectError(exchange: Exchange, headers: Record<string, string>, error: ConnectError): void {
  const merged = new Headers(headers);
  mergeNonProtocolHeaders(merged, error.metadata);
  merged.set("content-type", "application/json");
  const body = errorToJsonBytes(error, {});
  merged.set("content-length", String(body.byteLength));
  exchange.send(codeToHttpStatus(error.code), Object.fromEntries(merged), body);
}

export async function sendGrpc(
  exchange: Exchange,
  headers: Record<string, string>,
  compression: Compression | null,
  bytes: Uint8Array | undefined,
  error: ConnectError | undefined,
): Promise<void> {
  headers["content-type"] = "application/grpc+proto";
  if (compression !== null) {
    headers["grpc-encoding"] = compression.name;
  }
  let trailers: Record<string, string> = GRPC_OK;
  if (error !== undefined) {
    const trailer = new Headers(GRPC_OK);
    setTrailerStatus(trailer, error);
    trailers = Object.fromEntries(trailer);
  }
  let frame: Uint8Array | undefined;
  if (bytes !== undefined) {
    const compressed = compression !== null && bytes.byteLength >= COMPRESS_MIN_BYTES;
    const payload = compressed ? await (compression as Compression).compress(bytes) : bytes;
    frame = Buffer.allocUnsafe(5 + payload.byteLength);
    frame[0] = compressed ? 1 : 0;
    new DataView(frame.buffer, frame.byteOffset, 5).setUint32(1, payload.byteLength);
    frame.set(payload, 5);
  }
  exchange.send(200, headers, frame, trailers);
}

const GRPC_OK: Readonly<Record<string, string>> = Object.freeze({ "grpc-status": "0" });
