import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { ServerHttp2Stream } from "node:http2";
import type { RequestHeaders } from "../policy/call-policy.js";
import { readBody } from "../transport/read-body.js";
import type { Presence } from "../waits/presence.js";

/** One request and its answer, whichever HTTP API carries them. */
export interface Exchange extends RequestHeaders {
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

/** An HTTP/1.1 request (or an HTTP/2 one in compatibility form) and its response. */
export class Http1Exchange implements Exchange, Presence {
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
export class Http2Exchange implements Exchange, Presence {
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
