import type { Readable } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, createAsyncIterable, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { parseContentType as parseConnectType } from "@connectrpc/connect/protocol-connect";
import { parseContentType as parseGrpcType } from "@connectrpc/connect/protocol-grpc";
import { parseContentType as parseGrpcWebType } from "@connectrpc/connect/protocol-grpc-web";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { bodyLimit, bodyTooLarge, ENVELOPE_HEADER_BYTES } from "./body-limit.js";
import { COMPRESSED_FLAG, compressedWithoutEncoding, parseMessage } from "./parse-message.js";
import { readBody } from "./read-body.js";

const compressions: readonly Compression[] = [compressionGzip, compressionBrotli];

/** How a request carries its one message. */
interface Framing {
  binary: boolean;
  enveloped: boolean;
  /** The header naming the message's compression. */
  encodingHeader: string;
}

/** True for methods whose request is one message (unary and server streaming): those read here. */
export function takesOneMessage(method: DescMethod): boolean {
  return method.methodKind === "unary" || method.methodKind === "server_streaming";
}

/**
 * Reads the one request message of `method` before Connect does, from `body` (the raw request,
 * read with readBody), strictly (see parseMessage), and returns the request carrying the same
 * bytes for Connect to read again. Throws the INVALID_ARGUMENT (or RESOURCE_EXHAUSTED past
 * `readMaxBytes`) that Connect's own reader would have made a 500 of, or let through. Whatever is
 * not a well-formed single message of a known protocol and compression is passed on as it came:
 * Connect's own answer to it is already right.
 *
 * Written here because Connect reads and parses inside its handlers, with no hook between.
 */
export async function readInputStrictly(
  request: UniversalServerRequest,
  body: Readable,
  method: DescMethod,
  readMaxBytes: number,
): Promise<UniversalServerRequest> {
  if (request.method === "GET") {
    checkGetMessage(request, method, readMaxBytes);
    return request;
  }
  const framing = framingOf(request.header.get("content-type"));
  if (framing === undefined) {
    return request;
  }
  const bytes = await readBody(body, {
    contentLength: request.header.get("content-length") ?? undefined,
    limit: bodyLimit(readMaxBytes, framing.enveloped),
    readMaxBytes,
  });
  const again = { ...request, body: createAsyncIterable([bytes]) };
  const encoding = request.header.get(framing.encodingHeader);
  const compression = encoding === null || encoding === "identity" ? null : compressions.find((c) => c.name === encoding);
  if (compression === undefined) {
    return again;
  }
  let message: Uint8Array = bytes;
  let compressed = compression !== null;
  if (framing.enveloped) {
    const length = bytes.length >= ENVELOPE_HEADER_BYTES ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(1) : -1;
    const flags = bytes[0] ?? 0;
    if (length !== bytes.length - ENVELOPE_HEADER_BYTES || (flags & ~COMPRESSED_FLAG) !== 0) {
      return again;
    }
    message = bytes.subarray(ENVELOPE_HEADER_BYTES);
    compressed = (flags & COMPRESSED_FLAG) !== 0;
    if (compressed && compression === null) {
      // Connect calls it INTERNAL; it is the caller's mistake.
      throw compressedWithoutEncoding();
    }
  }
  if (compressed && compression !== null) {
    message = await decompress(compression, message, readMaxBytes);
  }
  parseMessage(method.input, message, framing.binary);
  return again;
}

async function decompress(compression: Compression, bytes: Uint8Array, readMaxBytes: number): Promise<Uint8Array> {
  try {
    return await compression.decompress(bytes, readMaxBytes);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.ResourceExhausted) {
      throw error;
    }
    throw new ConnectError(`the request's message is not valid ${compression.name} data`, Code.InvalidArgument);
  }
}

function framingOf(contentType: string | null): Framing | undefined {
  if (contentType === null) {
    return undefined;
  }
  const connect = parseConnectType(contentType);
  if (connect !== undefined) {
    return connect.stream
      ? { binary: connect.binary, enveloped: true, encodingHeader: "connect-content-encoding" }
      : { binary: connect.binary, enveloped: false, encodingHeader: "content-encoding" };
  }
  const grpc = parseGrpcType(contentType) ?? parseGrpcWebType(contentType);
  return grpc === undefined ? undefined : { binary: grpc.binary, enveloped: true, encodingHeader: "grpc-encoding" };
}

/** A Connect GET carries its message in the query: `message`, `encoding`, `base64`, `compression`. */
function checkGetMessage(request: UniversalServerRequest, method: DescMethod, readMaxBytes: number): void {
  const query = new URL(request.url).searchParams;
  const encoding = query.get("encoding");
  const compression = query.get("compression");
  if ((encoding !== "json" && encoding !== "proto") || (compression !== null && compression !== "identity")) {
    // Connect refuses unknown encodings itself; compressed GETs are left to it.
    return;
  }
  const text = query.get("message") ?? "";
  let bytes: Uint8Array;
  if (query.get("base64") === "1") {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) {
      throw new ConnectError("the message query parameter is not base64 (RFC 4648, standard or URL-safe)", Code.InvalidArgument);
    }
    bytes = base64Decode(text);
  } else {
    bytes = new TextEncoder().encode(text);
  }
  if (bytes.byteLength > readMaxBytes) {
    throw bodyTooLarge(readMaxBytes, bytes.byteLength);
  }
  parseMessage(method.input, bytes, encoding === "proto");
}
