import { isUtf8 } from "node:buffer";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { ServerHttp2Stream } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, compressionNegotiate, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type GetStatusRequest, GetStatusRequestSchema, JobService } from "../../gen/jobs/v1/job_service_pb.js";
import type { CallPolicy, RequestHeaders } from "../policy/call-policy.js";
import type { CorsPolicy } from "../policy/cors-policy.js";
import type { GetStatus, StatusCall } from "../service/job-service.js";
import { bodyLimit, ENVELOPE_HEADER_BYTES } from "../transport/body-limit.js";
import type { FastPath } from "../transport/one-port-server.js";
import { COMPRESSED_FLAG, compressedWithoutEncoding, parseMessage } from "../transport/parse-message.js";
import { readBody } from "../transport/read-body.js";
import type { Presence } from "../waits/presence.js";
import { statusResponseBinary, statusResponseJson } from "./status-encoding.js";

type Kind = "json" | "proto" | "grpc";

const METHOD = `${JobService.typeName}/${JobService.method.getStatus.name}`;
const PATH = `/${METHOD}`;
/** Connect's defaults, which the Connect path uses too. */
const COMPRESS_MIN_BYTES = 1024;
const MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;
const compressions: Compression[] = [compressionGzip, compressionBrotli];

export interface LeanGetStatusOptions {
  getStatus: GetStatus;
  /** Who calls and whether the call may run, decided before the body is read, as on the router. */
  policy: Pick<CallPolicy, "admit">;
  /** The CORS headers every answer carries, as the router's answers do. */
  cors: Pick<CorsPolicy, "headers">;
  readMaxBytes: number;
  /** Told of each call as it ends, as the router's calls are: method, code (undefined for OK), seconds. */
  callEnded?: (method: string, code: Code | undefined, seconds: number) => void;
}

/** One request and its answer, whichever HTTP API carries them. */
interface Exchange extends RequestHeaders {
  readonly peer: string | undefined;
  /** The connection the request came on: its socket, or its HTTP/2 session. */
  readonly connection: object | undefined;
  readonly presence: Presence;
  /**
   * The whole body, up to `limit` bytes: past it, or past a declared length above it,
   * RESOURCE_EXHAUSTED (reading stops: the rest is not wanted); a caller that leaves mid-way
   * rejects it too.
   */
  readBody(limit: number, readMaxBytes: number): Promise<Uint8Array>;
  /**
   * Sends the whole answer: status, headers, an optional body and optional trailers. When the
   * request was not read to its end, the client is told to stop sending once the answer is out.
   */
  send(status: number, headers: Record<string, string>, body?: Uint8Array, trailers?: Record<string, string>): void;
}

/**
 * A lean path for the hottest call, GetStatus, in the two forms that carry nearly all of it:
 * Connect unary (JSON or binary, HTTP/1.1 or HTTP/2) and gRPC (HTTP/2), neither compressed. It
 * speaks the same wire protocol as the Connect handler, with Connect's own helpers for timeouts,
 * errors, trailers and compression, but without the per-call machinery of a general router
 * (handler contexts, abort controllers, async-iterable pipelines) and, on HTTP/2, without the
 * compatibility request and response objects. Every other request, and every other form of this
 * one (GET, gRPC-Web, compressed bodies), goes on.
 */
export function createLeanGetStatus(options: LeanGetStatusOptions): FastPath {
  return {
    http1: (next) => (req, res) => {
      const kind = req.method === "POST" && req.url === PATH ? leanKind(req.headers, false) : undefined;
      if (kind === undefined) {
        next(req, res);
      } else {
        serve(options, kind, new Http1Exchange(req, res)).catch(ignore);
      }
    },
    http2: (stream, headers) => {
      const kind = headers[":method"] === "POST" && headers[":path"] === PATH ? leanKind(headers, true) : undefined;
      if (kind === undefined) {
        return false;
      }
      serve(options, kind, new Http2Exchange(stream, headers)).catch(ignore);
      return true;
    },
  };
}

function leanKind(headers: IncomingHttpHeaders, http2: boolean): Kind | undefined {
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

async function serve(options: LeanGetStatusOptions, kind: Kind, exchange: Exchange): Promise<void> {
  const startedAt = performance.now();
  const grpc = kind === "grpc";
  const acceptName = grpc ? "grpc-accept-encoding" : "accept-encoding";
  const compression = compressionNegotiate(compressions, null, exchange.header(acceptName), acceptName).response;
  const headers = options.cors.headers(exchange.header("origin"));
  let code: Code | undefined;
  try {
    const timeout = grpc
      ? parseGrpcTimeout(exchange.header("grpc-timeout"), MAX_TIMEOUT_MS)
      : parseConnectTimeout(exchange.header("connect-timeout-ms"), MAX_TIMEOUT_MS);
    // As the router: the call is admitted before the body is read.
    const { caller, owner } = options.policy.admit(exchange, exchange.peer);
    if (timeout.error !== undefined) {
      throw timeout.error;
    }
    const body = await exchange.readBody(bodyLimit(options.readMaxBytes, grpc), options.readMaxBytes);
    const request = grpc ? parseGrpcRequest(body) : parseConnectRequest(kind, body);
    const call: StatusCall = {
      caller,
      owner,
      timeoutMs: timeout.timeoutMs,
      presence: exchange.presence,
      connection: exchange.connection,
    };
    const response = await options.getStatus(request, call);
    const bytes = kind === "json" ? statusResponseJson(response) : statusResponseBinary(response);
    if (grpc) {
      await sendGrpc(exchange, headers, compression, bytes, undefined);
    } else {
      await sendConnect(exchange, headers, kind, compression, bytes);
    }
  } catch (caught) {
    const error =
      caught instanceof ConnectError ? caught : new ConnectError("internal error", Code.Internal, undefined, undefined, caught);
    code = error.code;
    if (grpc) {
      await sendGrpc(exchange, headers, compression, undefined, error);
    } else {
      sendConnectError(exchange, headers, error);
    }
  } finally {
    options.callEnded?.(METHOD, code, (performance.now() - startedAt) / 1000);
  }
}

function ignore(): void {}

/** An HTTP/1.1 request (or an HTTP/2 one in compatibility form) and its response. */
class Http1Exchange implements Exchange, Presence {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  header(name: string): string | null {
    return joined(this.req.headers[name]);
  }

  get peer(): string | undefined {
    return this.req.socket.remoteAddress;
  }

  get connection(): object {
    return this.req.socket;
  }

  get presence(): Presence {
    return this;
  }

  get left(): boolean {
    return this.res.closed;
  }

  onLeave(listener: () => void): () => void {
    this.res.once("close", listener);
    return () => this.res.off("close", listener);
  }

  readBody(limit: number, readMaxBytes: number): Promise<Uint8Array> {
    return readBody(this.req, { contentLength: this.req.headers["content-length"], limit, readMaxBytes });
  }

  send(status: number, headers: Record<string, string>, body?: Uint8Array, trailers?: Record<string, string>): void {
    if (this.res.headersSent || this.res.destroyed) {
      return;
    }
    if (!this.req.complete) {
      // The rest of the body is not wanted: it is read and dropped while the answer goes out
      // (closing at once could reset the answer), as Node does for the router's answers.
      this.req.resume();
    }
    this.res.writeHead(status, headers);
    if (trailers !== undefined) {
      // Only gRPC sends trailers, and only over HTTP/2 (this is its compatibility response).
      this.res.addTrailers(trailers);
    }
    this.res.end(body);
  }
}

const pendingTrailers = Symbol("pendingTrailers");
type TrailedStream = ServerHttp2Stream & { [pendingTrailers]?: Record<string, string> };

/** Sends the trailers kept on the stream; a "wantTrailers" listener shared by every stream. */
function sendPendingTrailers(this: TrailedStream): void {
  this.sendTrailers(this[pendingTrailers] ?? {});
}

/** A raw HTTP/2 stream and its request headers. */
class Http2Exchange implements Exchange, Presence {
  constructor(
    private readonly stream: TrailedStream,
    private readonly headers: IncomingHttpHeaders,
  ) {}

  header(name: string): string | null {
    return joined(this.headers[name]);
  }

  get peer(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }

  get connection(): object | undefined {
    return this.stream.session;
  }

  get presence(): Presence {
    return this;
  }

  get left(): boolean {
    return this.stream.closed;
  }

  onLeave(listener: () => void): () => void {
    this.stream.once("close", listener);
    return () => this.stream.off("close", listener);
  }

  readBody(limit: number, readMaxBytes: number): Promise<Uint8Array> {
    return readBody(this.stream, { contentLength: this.headers["content-length"], limit, readMaxBytes });
  }

  send(status: number, headers: Record<string, string>, body?: Uint8Array, trailers?: Record<string, string>): void {
    const stream = this.stream;
    if (stream.destroyed) {
      return;
    }
    headers[":status"] = String(status);
    stream.respond(headers, { waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) {
      stream[pendingTrailers] = trailers;
      stream.once("wantTrailers", sendPendingTrailers);
    }
    if (!stream.readableEnded) {
      // The rest of the body is not wanted: read and dropped, so the client can finish sending
      // and read the answer (a reset could reach it before the answer; the request timeout
      // bounds a client that never finishes).
      stream.resume();
    }
    stream.end(body);
  }
}

function joined(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

function parseConnectRequest(kind: Kind, body: Uint8Array): GetStatusRequest {
  if (kind === "proto") {
    return parseMessage(GetStatusRequestSchema, body, true);
  }
  // Plain JSON is read by hand; anything else (and any mistake) the strict reader reads or refuses.
  const plain = isUtf8(body) ? readPlainRequest(Buffer.from(body).toString("utf8")) : undefined;
  return plain ?? parseMessage(GetStatusRequestSchema, body, false);
}

/** The largest Duration protobuf allows (10,000 years). */
const MAX_DURATION_SECONDS = 315_576_000_000;
const plainWait = /^(\d{1,12})(?:\.(\d{1,9}))?s$/;
const plainVersion = /^\d{1,19}$/;

/**
 * The request as protobuf-es would read it, for the plain JSON that clients send (`jobId`, and
 * `wait` and `knownVersion` in their usual forms), without its general JSON reader. Undefined for
 * anything else, which the general reader then reads (or refuses) as the Connect handler would.
 */
function readPlainRequest(text: string): GetStatusRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return undefined;
  }
  const { jobId, wait, knownVersion, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || (jobId !== undefined && typeof jobId !== "string")) {
    return undefined;
  }
  // JSON.parse keeps the last of duplicate keys, which the strict reader refuses: each key read
  // here must be written once (no value of these three can hold a quote).
  for (const key of Object.keys(value)) {
    if (text.indexOf(`"${key}"`) !== text.lastIndexOf(`"${key}"`) || !text.includes(`"${key}"`)) {
      return undefined;
    }
  }
  const waitMatch = wait === undefined ? undefined : typeof wait === "string" ? plainWait.exec(wait) : null;
  const versionOk = knownVersion === undefined || (typeof knownVersion === "string" && plainVersion.test(knownVersion));
  if (waitMatch === null || !versionOk || (waitMatch !== undefined && Number(waitMatch[1]) > MAX_DURATION_SECONDS)) {
    return undefined;
  }
  return {
    $typeName: GetStatusRequestSchema.typeName,
    jobId: jobId ?? "",
    wait:
      waitMatch === undefined
        ? undefined
        : {
            $typeName: "google.protobuf.Duration",
            seconds: BigInt(waitMatch[1] as string),
            nanos: Number((waitMatch[2] ?? "").padEnd(9, "0")),
          },
    knownVersion: knownVersion === undefined ? 0n : BigInt(knownVersion as string),
  };
}

/**
 * One length-prefixed message, uncompressed, as a unary gRPC request carries; a body framed
 * otherwise is refused with the code and words of Connect's own gRPC handler (the compressed
 * flag without grpc-encoding, which Connect calls INTERNAL, is INVALID_ARGUMENT on both paths:
 * see strict-input.ts).
 */
function parseGrpcRequest(body: Uint8Array): GetStatusRequest {
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
  return parseMessage(GetStatusRequestSchema, body.subarray(ENVELOPE_HEADER_BYTES, end), true);
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

async function sendConnect(
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

function sendConnectError(exchange: Exchange, headers: Record<string, string>, error: ConnectError): void {
  const merged = new Headers(headers);
  mergeNonProtocolHeaders(merged, error.metadata);
  merged.set("content-type", "application/json");
  const body = errorToJsonBytes(error, {});
  merged.set("content-length", String(body.byteLength));
  exchange.send(codeToHttpStatus(error.code), Object.fromEntries(merged), body);
}

async function sendGrpc(
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
