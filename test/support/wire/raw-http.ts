import http from "node:http";
import { connect as connectHttp2, constants } from "node:http2";

// Requests written by hand, so that tests see exactly what the server sends: every header, the
// raw body, and (over HTTP/2) the trailers. Each opens its own connection and closes it.

/** One HTTP answer as it came. */
export interface RawAnswer {
  status: number;
  /** Response headers, names in lower case, several values joined with ", ". */
  headers: Record<string, string>;
  /** HTTP/2 trailers (empty over HTTP/1.1 and for a trailers-only answer). */
  trailers: Record<string, string>;
  /** HTTP/2: the HEADERS frame ended the stream (a trailers-only answer, as gRPC means it). */
  headersEndedStream: boolean;
  body: Buffer;
}

export interface RawRequest {
  /** Such as http://127.0.0.1:41234 */
  url: string;
  /** The request target, sent as written (nothing is normalised or escaped). */
  path: string;
  method?: string;
  /** Request headers; an array sends one header line per value. */
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
}

/** Sends one request over HTTP/1.1 and reads its whole answer. */
export function http1Request({ url, path, method = "POST", headers = {}, body }: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path, method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: flatten(response.headers),
          trailers: flatten(response.trailers),
          headersEndedStream: false,
          body: Buffer.concat(chunks),
        }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body === undefined ? undefined : Buffer.from(body));
  });
}

/** Sends one request over HTTP/2 cleartext (prior knowledge) and reads its whole answer. */
export function http2Request({ url, path, method = "POST", headers = {}, body }: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url);
    session.on("error", reject);
    const stream = session.request({ ":method": method, ":path": path, ...headers }, { endStream: body === undefined });
    const answer: RawAnswer = { status: 0, headers: {}, trailers: {}, headersEndedStream: false, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on("response", (fields, flags) => {
      answer.status = Number(fields[":status"]);
      answer.headers = flatten(fields);
      answer.headersEndedStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on("trailers", (fields) => {
      answer.trailers = flatten(fields);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      answer.body = Buffer.concat(chunks);
      session.close();
      resolve(answer);
    });
    stream.on("error", (error) => {
      session.destroy();
      reject(error);
    });
    if (body !== undefined) {
      stream.end(Buffer.from(body));
    }
  });
}

/** One message in the length-prefixed envelope of gRPC and gRPC-Web, uncompressed. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.byteLength);
  new DataView(frame.buffer).setUint32(1, message.byteLength);
  frame.set(message, 5);
  return frame;
}

/** The body as JSON, or undefined when it is not JSON. */
export function jsonOf(answer: RawAnswer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(answer.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function flatten(fields: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && !name.startsWith(":")) {
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }
  return flat;
}

/**
 * The gRPC status of an answer as a gRPC client reads it. gRPC over HTTP/2: from the trailers,
 * or from the headers only when they ended the stream (a trailers-only answer; grpc-status in
 * headers followed by more frames is no status to grpc-js or grpc-go). gRPC-Web: from the
 * trailer message in the body, or from the headers when there is no body.
 */
export function grpcStatusOf(answer: RawAnswer): { code: string | undefined; message: string | undefined } {
  let fields: Record<string, string>;
  if ((answer.headers["content-type"] ?? "").startsWith("application/grpc-web")) {
    fields = answer.body.length === 0 ? answer.headers : grpcWebTrailers(answer.body);
  } else {
    fields = answer.headersEndedStream ? answer.headers : answer.trailers;
  }
  const message = fields["grpc-message"];
  return { code: fields["grpc-status"], message: message === undefined ? undefined : decodeURIComponent(message) };
}

/** The trailer message (flag 0x80) of a gRPC-Web body, as header fields. */
function grpcWebTrailers(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    if ((body[at] ?? 0) & 0x80) {
      for (const line of body
        .subarray(at + 5, at + 5 + length)
        .toString("latin1")
        .split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
      }
    }
    at += 5 + length;
  }
  return fields;
}

/** The end-of-stream message of a Connect streaming answer (flag 0x02), parsed. */
export function connectEndStream(answer: RawAnswer): { error?: { code?: string; message?: string } } | undefined {
  const body = answer.body;
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    if ((body[at] ?? 0) & 0x02) {
      return JSON.parse(body.subarray(at + 5, at + 5 + length).toString("utf8")) as {
        error?: { code?: string; message?: string };
      };
    }
    at += 5 + length;
  }
  return undefined;
}
