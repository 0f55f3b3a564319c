import type { ClientHttp2Session, OutgoingHttpHeaders } from "node:http2";

/** What one unary gRPC call over raw HTTP/2 answered. */
export interface GrpcAnswer {
  /** grpc-status from the trailers (or a trailers-only answer); undefined if the stream broke. */
  status: string | undefined;
  /** The answer's message, without its 5-byte frame header. */
  message: Buffer;
}

/** A gRPC length-prefixed message: flag 0 (uncompressed), length (big endian), then the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The request headers of a gRPC call to `path`, such as "/jobs.v1.JobService/GetStatus". */
export function grpcHeaders(path: string): OutgoingHttpHeaders {
  return { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" };
}

/**
 * Sends one pre-encoded request `frame` on `session` and resolves once the answer is complete.
 * With `keepMessage` false the answer's bytes are read and dropped (an empty `message`), which
 * costs the load generator less.
 */
export function grpcUnary(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  frame: Buffer,
  keepMessage = true,
): Promise<GrpcAnswer> {
  return new Promise((resolve) => {
    const stream = session.request(headers);
    const chunks: Buffer[] = [];
    let status: string | undefined;
    stream.on("response", (head) => {
      status = (head["grpc-status"] as string | undefined) ?? status;
    });
    stream.on("trailers", (trailers) => {
      status = (trailers["grpc-status"] as string | undefined) ?? status;
    });
    if (keepMessage) {
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    } else {
      stream.resume();
    }
    stream.on("error", () => undefined);
    stream.on("close", () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      resolve({ status, message: body.subarray(5) });
    });
    stream.end(frame);
  });
}
