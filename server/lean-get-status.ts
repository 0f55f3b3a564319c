import type { IncomingMessage, ServerResponse } from "node:http";
import { fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type Compression, compressionNegotiate, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { type GetStatusRequest, GetStatusRequestSchema, JobService } from "../gen/jobs/v1/job_service_pb.js";
import type { GetStatus, StatusCall } from "./job-service.js";
import { statusResponseBinary, statusResponseJson } from "./status-encoding.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Kind = "json" | "proto" | "grpc";

const PATH = `/${JobService.typeName}/${JobService.method.getStatus.name}`;
/** Connect's defaults, which the Connect path uses too. */
const COMPRESS_MIN_BYTES = 1024;
const MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;
const compressions: Compression[] = [compressionGzip, compressionBrotli];

export interface LeanGetStatusOptions {
  getStatus: GetStatus;
  /** Who calls, from the request's headers and peer; throws UNAUTHENTICATED without a valid key. */
  identify: (req: IncomingMessage) => { caller: string; owner: string };
  /** Throws when the call may not run (the server is closing; an injected fault). */
  admit: () => void;
  readMaxBytes: number;
  /** Headers every answer carries, as the rest of the server's answers do (CORS). */
  commonHeaders: (req: IncomingMessage) => Record<string, string>;
}

/**
 * A lean path for the hottest call, GetStatus, in the two forms that carry nearly all of it:
 * Connect unary (JSON or binary, HTTP/1.1 or HTTP/2) and gRPC (HTTP/2), neither compressed. It
 * speaks the same wire protocol as the Connect handler, with Connect's own helpers for timeouts,
 * errors, trailers and compression, but without the per-call machinery of a general router
 * (handler contexts, abort controllers, async-iterable pipelines). Every other request, and
 * every other form of this one (GET, gRPC-Web, compressed bodies), goes on to `next`.
 */
export function createLeanGetStatus(options: LeanGetStatusOptions, next: Handler): Handler {
  return (req, res) => {
    const kind = req.method === "POST" && req.url === PATH ? leanKind(req) : undefined;
    if (kind === undefined) {
      next(req, res);
    } else {
      void serve(options, kind, req, res);
    }
  };
}

function leanKind(req: IncomingMessage): Kind | undefined {
  const type = req.headers["content-type"];
  if (req.httpVersionMajor === 2 && (type === "application/grpc" || type === "application/grpc+proto")) {
    const encoding = req.headers["grpc-encoding"];
    return encoding === undefined || encoding === "identity" ? "grpc" : undefined;
  }
  const encoding = req.headers["content-encoding"];
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

async function serve(options: LeanGetStatusOptions, kind: Kind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const grpc = kind === "grpc";
  const accepted = header(req, grpc ? "grpc-accept-encoding" : "accept-encoding");
  const compression = compressionNegotiate(compressions, null, accepted, grpc ? "grpc-accept-encoding" : "accept-encoding");
  try {
    const timeout = grpc
      ? parseGrpcTimeout(header(req, "grpc-timeout"), MAX_TIMEOUT_MS)
      : parseConnectTimeout(header(req, "connect-timeout-ms"), MAX_TIMEOUT_MS);
    // As Connect's request gate: the caller is known before the body is read.
    const { caller, owner } = options.identify(req);
    if (timeout.error !== undefined) {
      throw timeout.error;
    }
    const body = await readBody(req, options.readMaxBytes);
    const request = grpc ? parseGrpcRequest(body) : parseConnectRequest(kind, body);
    options.admit();
    const response = await options.getStatus(request, statusCall(caller, owner, timeout.timeoutMs, res));
    const bytes = kind === "json" ? statusResponseJson(response) : statusResponseBinary(response);
    if (grpc) {
      await sendGrpc(res, options.commonHeaders(req), compression.response, bytes, undefined);
    } else {
      await sendConnect(res, options.commonHeaders(req), kind, compression.response, bytes);
    }
  } catch (caught) {
    const error = caught instanceof ConnectError ? caught : new ConnectError("internal error", Code.Internal, undefined, undefined, caught);
    if (grpc) {
      await sendGrpc(res, options.commonHeaders(req), compression.response, undefined, error);
    } else {
      sendConnectError(res, options.commonHeaders(req), error);
    }
  }
}

/** The call as GetStatus sees it; its signal (for long waits only) is made on first use. */
function statusCall(caller: string, owner: string, timeoutMs: number | undefined, res: ServerResponse): StatusCall {
  let signal: AbortSignal | undefined;
  return {
    caller,
    owner,
    timeoutMs,
    get signal() {
      if (signal === undefined) {
        const controller = new AbortController();
        signal = controller.signal;
        if (res.closed) {
          controller.abort();
        } else {
          res.once("close", () => controller.abort());
        }
      }
      return signal;
    },
  };
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge(size, limit));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function tooLarge(size: number, limit: number): ConnectError {
  return new ConnectError(`message size ${size} is larger than configured readMaxBytes ${limit}`, Code.ResourceExhausted);
}

function parseConnectRequest(kind: Kind, body: Uint8Array): GetStatusRequest {
  if (kind === "proto") {
    return parseBinary(body);
  }
  const text = Buffer.from(body).toString("utf8");
  return readPlainRequest(text) ?? parseJson(text);
}

function parseJson(text: string): GetStatusRequest {
  try {
    return fromJsonString(GetStatusRequestSchema, text, { ignoreUnknownFields: true });
  } catch (error) {
    throw ConnectError.from(error, Code.InvalidArgument);
  }
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

function parseBinary(body: Uint8Array): GetStatusRequest {
  try {
    return fromBinary(GetStatusRequestSchema, body);
  } catch (error) {
    throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
}

/** One length-prefixed message, uncompressed, as a unary gRPC request carries. */
function parseGrpcRequest(body: Uint8Array): GetStatusRequest {
  if (body.length < 5) {
    throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = view.getUint8(0);
  const length = view.getUint32(1);
  if ((flags & 0b01) !== 0) {
    throw new ConnectError("protocol error: received compressed message without grpc-encoding", Code.Internal);
  }
  if (body.length !== 5 + length) {
    throw new ConnectError("protocol error: expected exactly one input message for unary method", Code.Unimplemented);
  }
  return parseBinary(body.subarray(5));
}

async function sendConnect(
  res: ServerResponse,
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
  res.writeHead(200, headers);
  res.end(body);
}

function sendConnectError(res: ServerResponse, headers: Record<string, string>, error: ConnectError): void {
  const merged = new Headers(headers);
  mergeNonProtocolHeaders(merged, error.metadata);
  merged.set("content-type", "application/json");
  const body = errorToJsonBytes(error, {});
  merged.set("content-length", String(body.byteLength));
  if (!res.headersSent) {
    res.writeHead(codeToHttpStatus(error.code), Object.fromEntries(merged));
  }
  res.end(body);
}

async function sendGrpc(
  res: ServerResponse,
  headers: Record<string, string>,
  compression: Compression | null,
  bytes: Uint8Array | undefined,
  error: ConnectError | undefined,
): Promise<void> {
  headers["content-type"] = "application/grpc+proto";
  if (compression !== null) {
    headers["grpc-encoding"] = compression.name;
  }
  const trailer = new Headers({ "grpc-status": "0" });
  if (error !== undefined) {
    setTrailerStatus(trailer, error);
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
  res.writeHead(200, headers);
  // The HTTP/2 compatibility response sends these as trailers when it ends.
  (res as unknown as { addTrailers(headers: Record<string, string>): void }).addTrailers(Object.fromEntries(trailer));
  res.end(frame);
}
