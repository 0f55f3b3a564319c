import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeStreamRegExp as connectStreamType,
  createEndStreamSerialization,
  endStreamFlag,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { contentTypeRegExp as grpcType, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { contentTypeRegExp as grpcWebType } from "@connectrpc/connect/protocol-grpc-web";

/** An HTTP answer to write: status, headers, and a body unless there is none. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array;
}

const endStream = createEndStreamSerialization({});

/**
 * The answer carrying `error` in the protocol the request's content type speaks, for requests
 * that never reach a Connect handler (an unknown service or method, a URL the router cannot
 * read): gRPC and gRPC-Web get HTTP 200 with the status in a trailers-only answer; Connect
 * streams get HTTP 200 and an end-of-stream message; everything else, Connect unary included,
 * gets Connect's JSON error with the HTTP status of its code, or `httpStatus` (an unknown
 * route is 404, which clients that read only the status take for UNIMPLEMENTED, where 501,
 * Connect's status of that code, reads as UNKNOWN).
 */
export function protocolErrorAnswer(contentType: string | undefined, error: ConnectError, httpStatus?: number): ErrorAnswer {
  const type = contentType ?? "";
  if (grpcType.test(type) || grpcWebType.test(type)) {
    const headers = new Headers({
      "content-type": grpcWebType.test(type) ? "application/grpc-web+proto" : "application/grpc+proto",
    });
    setTrailerStatus(headers, error);
    return { status: 200, headers: Object.fromEntries(headers) };
  }
  if (connectStreamType.test(type)) {
    const body = encodeEnvelope(endStreamFlag, endStream.serialize({ metadata: new Headers(), error }));
    return {
      status: 200,
      headers: { "content-type": type.includes("proto") ? "application/connect+proto" : "application/connect+json" },
      body,
    };
  }
  const body = errorToJsonBytes(error, {});
  return {
    status: httpStatus ?? codeToHttpStatus(error.code),
    headers: { "content-type": "application/json", "content-length": String(body.byteLength) },
    body,
  };
}
