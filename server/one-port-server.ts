import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import http2, {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";

/** The first bytes of every HTTP/2 connection made with prior knowledge (RFC 9113, 3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;
/** Takes an HTTP/2 stream as it arrives and returns true, or returns false to leave it to `handler`. */
export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/**
 * An HTTP server that speaks HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on one port: each
 * new connection's first bytes tell which, and the connection goes to an HTTP/1.1 or an HTTP/2
 * server that share `handler`. Returned as the HTTP/1.1 server, which owns the listening socket,
 * so Fastify listens, closes and reports its address as usual; closing also ends the HTTP/2
 * sessions (GOAWAY, letting their open streams finish).
 *
 * HTTP/2 streams go to `onStream` first, as raw streams; those it does not take become HTTP/2
 * compatibility requests and responses for `handler`.
 *
 * Use it as Fastify's `serverFactory`.
 */
export function createOnePortServer(handler: Handler, onStream: StreamHandler = () => false): http.Server {
  const h1 = http.createServer(handler);
  const h2 = http2.createServer({});
  // Never listens: it only turns the streams that `onStream` leaves into compatibility requests
  // and responses (Fastify's handler and connect-node both take those).
  const compat = http2.createServer({}, handler as unknown as Http2Handler);
  h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (!onStream(stream, headers)) {
      compat.emit("stream", stream, headers, flags, rawHeaders);
    }
  });
  const sessions = new Set<Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const serveH1 = h1.listeners("connection")[0] as (socket: Socket) => void;
  h1.removeAllListeners("connection");
  h1.on("connection", (socket: Socket) => {
    // The HTTP/1.1 server keeps sockets half-open after the peer's FIN; an HTTP/2 session on
    // such a socket would never learn that its caller died, and would hold its waits.
    socket.allowHalfOpen = false;
    sniff(socket, (isHttp2) => {
      if (isHttp2) {
        // The HTTP/2 session reads the bytes put back itself; resuming here would lose them.
        h2.emit("connection", socket);
      } else {
        serveH1.call(h1, socket);
        socket.resume();
      }
    });
  });

  const closeH1 = h1.close.bind(h1);
  h1.close = (callback?: (error?: Error) => void) => {
    for (const session of sessions) {
      session.close();
    }
    return closeH1(callback);
  };
  const closeIdleH1 = h1.closeIdleConnections.bind(h1);
  h1.closeIdleConnections = () => {
    closeIdleH1();
    for (const session of sessions) {
      // A session with no open stream is idle; close() sends GOAWAY and waits for open streams.
      session.close();
    }
  };
  return h1;
}

/** How long a new connection may stay silent before it is dropped. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

/** Reads until the first bytes show HTTP/2's preface or not, then puts them back and decides. */
function sniff(socket: Socket, decide: (isHttp2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  // Until a server owns the socket, its errors and silence are ours to handle.
  const onError = (): void => {
    socket.destroy();
  };
  const onTimeout = (): void => {
    socket.destroy();
  };
  socket.on("error", onError);
  socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, onTimeout);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const length = Math.min(seen.length, PREFACE.length);
    const matches = seen.subarray(0, length).equals(PREFACE.subarray(0, length));
    if (matches && seen.length < PREFACE.length) {
      return;
    }
    socket.off("data", onData);
    socket.off("error", onError);
    socket.setTimeout(0);
    socket.off("timeout", onTimeout);
    socket.pause();
    socket.unshift(seen);
    decide(matches);
  };
  socket.on("data", onData);
}
