import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, compressionNegotiate } from "@connectrpc/connect/protocol";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Audience, CallPolicy } from "../policy/call-policy.js";
import type { CorsPolicy } from "../policy/cors-policy.js";
import type { RpcCall } from "../service/rpc-call.js";
import { bodyLimit } from "../transport/body-limit.js";
import type { FastPath } from "../transport/one-port-server.js";
import { type Exchange, Http1Exchange, Http2Exchange } from "./lean-exchange.js";
import { grpcRequestMessage, type Kind, leanKind, sendConnect, sendConnectError, sendGrpc } from "./lean-wire.js";

/** Connect's default, which the router uses too. */
const MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;
const compressions: Compression[] = [compressionGzip, compressionBrotli];

/** One unary method the lean path serves, apart from any transport. */
export interface LeanMethod {
  readonly method: DescMethodUnary;
  /** Whose calls these are, for the call policy (API keys). */
  readonly audience: Audience;
  /** The request from its message bytes, binary or Connect JSON, read as the router reads it. */
  read(bytes: Uint8Array, binary: boolean): unknown;
  /** Runs the call, as the router's handler does (both call the same function). */
  call(request: never, call: RpcCall): Promise<unknown>;
  /** The answer's bytes, binary or JSON, as the router writes them. */
  write(response: never, binary: boolean): Uint8Array;
}

export interface LeanUnaryOptions {
  methods: readonly LeanMethod[];
  /** Who calls and whether the call may run, decided before the body is read, as on the router. */
  policy: Pick<CallPolicy, "admit">;
  /** The CORS headers every answer carries, as the router's answers do. */
  cors: Pick<CorsPolicy, "headers">;
  readMaxBytes: number;
  /** Told of each call as it ends, as the router's calls are: method, code (undefined for OK), seconds. */
  callEnded?: (method: string, code: Code | undefined, seconds: number) => void;
}

/**
 * A lean path for the hottest unary calls, in the two forms that carry nearly all of them:
 * Connect unary (JSON or binary, HTTP/1.1 or HTTP/2) and gRPC (HTTP/2), neither compressed. It
 * speaks the same wire protocol as the Connect handlers, with Connect's own helpers for timeouts,
 * errors, trailers and compression, but without the per-call machinery of a general router
 * (Fastify's routing and hooks, handler contexts, abort controllers, async-iterable pipelines)
 * and, on HTTP/2, without the compatibility request and response objects. Every other request,
 * and every other form of these (GET, gRPC-Web, compressed bodies), goes on to the router.
 */
export function createLeanUnary(options: LeanUnaryOptions): FastPath {
  const byPath = new Map(options.methods.map((method) => [`/${method.method.parent.typeName}/${method.method.name}`, method]));
  return {
    http1: (next) => (req, res) => {
      const method = req.method === "POST" ? byPath.get(req.url ?? "") : undefined;
      const kind = method === undefined ? undefined : leanKind(req.headers, false);
      if (method === undefined || kind === undefined) {
        next(req, res);
      } else {
        serve(options, method, kind, new Http1Exchange(req, res)).catch(ignore);
      }
    },
    http2: (stream, headers) => {
      const path = headers[":path"];
      const method = headers[":method"] === "POST" && typeof path === "string" ? byPath.get(path) : undefined;
      const kind = method === undefined ? undefined : leanKind(headers, true);
      if (method === undefined || kind === undefined) {
        return false;
      }
      serve(options, method, kind, new Http2Exchange(stream, headers)).catch(ignore);
      return true;
    },
  };
}

async function serve(options: LeanUnaryOptions, lean: LeanMethod, kind: Kind, exchange: Exchange): Promise<void> {
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
    const { caller, owner } = options.policy.admit(exchange, exchange.peer, lean.audience);
    if (timeout.error !== undefined) {
      throw timeout.error;
    }
    const body = await exchange.readBody(bodyLimit(options.readMaxBytes, grpc), options.readMaxBytes);
    const request = grpc ? lean.read(grpcRequestMessage(body), true) : lean.read(body, kind === "proto");
    const call: RpcCall = {
      caller,
      owner,
      timeoutMs: timeout.timeoutMs,
      presence: exchange.presence,
      connection: exchange.connection,
    };
    const response = await lean.call(request as never, call);
    const bytes = lean.write(response as never, kind !== "json");
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
    options.callEnded?.(`${lean.method.parent.typeName}/${lean.method.name}`, code, (performance.now() - startedAt) / 1000);
  }
}

function ignore(): void {}
