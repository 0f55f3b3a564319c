import type { IncomingHttpHeaders } from "node:http";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { guardHttp2Sessions, PING_INTERVAL_MS } from "./http2-sessions.js";
import { createInFlightRequests } from "./in-flight-requests.js";

/** The first bytes of every HTTP/2 connection made with prior knowledge (RFC 9113, 3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** The longest a new connection may take to send its first request's headers, in ms. */
const HEADERS_TIMEOUT_MS = 10_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;
/**
 * A path that answers some requests before `handler` sees them (the same protocol, less
 * machinery); whatever it leaves goes on to `handler`, so a server without it is as correct.
 */
export interface FastPath {
  /** For HTTP/1.1 requests: serves the ones it takes, hands the rest to `next`. */
  http1(next: Handler): Handler;
  /** For HTTP/2 streams, as raw streams: serves the ones it takes and returns true; false leaves the stream alone. */
  http2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean;
}

export interface OnePortServerOptions {
  /** Serves HTTP/1.1 requests, and the HTTP/2 streams no fast path takes (as compatibility requests). */
  handler: Handler;
  /** See each request first, in order. @default none */
  fastPaths?: readonly FastPath[];
  /** SETTINGS_MAX_CONCURRENT_STREAMS of every HTTP/2 connection. */
  maxStreamsPerConnection: number;
  /** A connection with no request in flight is closed after this long, in ms. */
  idleTimeoutMs: number;
  /** The longest a client may take to send a whole request, in ms. */
  requestTimeoutMs: number;
  /** HTTP/2 paths whose request stays open for the whole call (bidirectional streams): no request timeout. */
  isOpenEnded?: (path: string) => boolean;
  /** How often an HTTP/2 connection with open streams is pinged, in ms. @default PING_INTERVAL_MS */
  pingIntervalMs?: number;
  /** An unanswered ping ends its connection after this long, in ms. @default PING_TIMEOUT_MS */
  pingTimeoutMs?: number;
}

/** A server speaking HTTP/1.1 and HTTP/2 on one port, and the switches closing needs. */
export interface OnePortServer {
  /** The listening server, as Fastify's serverFactory returns it. */
  readonly server: http.Server;
  /**
   * From now on, asks every client to go once its requests in flight are answered: HTTP/1.1
   * answers carry `Connection: close`, idle keep-alive sockets close, HTTP/2 sessions get GOAWAY
   * (new ones after their first stream). The port still answers meanwhile.
   */
  drain(): void;
  /** Resolves once no request is in flight, or after `timeoutMs` at the latest. */
  drained(timeoutMs: number): Promise<void>;
  /** Cuts every connection with something still in flight now; the others end once their last answers are out. */
  destroyConnections(): void;
}

/**
 * An HTTP server that speaks HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on one port: each
 * new connection's first bytes tell which, and the connection goes to an HTTP/1.1 or an HTTP/2
 * server that share the handler. The HTTP/1.1 server owns the listening socket, so Fastify
 * listens, closes and reports its address as usual; closing also ends the HTTP/2 sessions.
 *
 * Both protocols are bounded alike: requests must arrive within the request timeout, connections
 * with nothing in flight close after the idle timeout, dead peers are found (TCP keepalive, and
 * HTTP/2 pings while streams are open), and an HTTP/2 connection has at most
 * `maxStreamsPerConnection` streams open.
 *
 * Each request goes to the fast paths first (HTTP/2 streams as raw streams); those they leave
 * reach `handler` (HTTP/2 ones as compatibility requests and responses). Every request is
 * counted until its answer ends, whichever path served it, for drained().
 */
export function createOnePortServer(options: OnePortServerOptions): OnePortServer {
  const fastPaths = options.fastPaths ?? [];
  const inFlight = createInFlightRequests();
  const handler = inFlight.wrap(fastPaths.reduceRight<Handler>((next, path) => path.http1(next), options.handler));
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean => {
    if (!fastPaths.some((path) => path.http2(stream, headers))) {
      return false;
    }
    inFlight.track(stream);
    return true;
  };
  let draining = false;
  const h1 = http.createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, options.requestTimeoutMs),
      keepAliveTimeout: options.idleTimeoutMs,
      // How often Node checks the two timeouts above (its default, 30 s, would double them).
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      if (draining) {
        // Answered, then closed: the client's next request opens a connection elsewhere.
        res.shouldKeepAlive = false;
      }
      handler(req, res);
    },
  );
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: options.maxStreamsPerConnection } });
  const sessions = guardHttp2Sessions(h2, {
    idleTimeoutMs: options.idleTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    isOpenEnded: options.isOpenEnded === undefined ? undefined : (_stream, path) => options.isOpenEnded?.(path) === true,
    pingIntervalMs: options.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs,
  });
  // Never listens: it only turns the streams that `onStream` leaves into compatibility requests
  // and responses (Fastify's handler and connect-node both take those).
  const compat = http2.createServer({}, handler as unknown as Http2Handler);
  h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (!onStream(stream, headers)) {
      compat.emit("stream", stream, headers, flags, rawHeaders);
    }
  });

  /** Connections whose first bytes have not come yet. */
  const undecided = new Set<Socket>();
  const serveH1 = h1.listeners("connection")[0] as (socket: Socket) => void;
  h1.removeAllListeners("connection");
  h1.on("connection", (socket: Socket) => {
    // The HTTP/1.1 server keeps sockets half-open after the peer's FIN; an HTTP/2 session on
    // such a socket would never learn that its caller died, and would hold its waits.
    socket.allowHalfOpen = false;
    // A held answer sends nothing for a while: TCP keepalive finds a peer that vanished.
    socket.setKeepAlive(true, PING_INTERVAL_MS);
    undecided.add(socket);
    sniff(socket, Math.min(HEADERS_TIMEOUT_MS, options.requestTimeoutMs), (isHttp2) => {
      undecided.delete(socket);
      if (isHttp2) {
        // The HTTP/2 session reads the bytes put back itself; resuming here would lose them.
        h2.emit("connection", socket);
      } else {
        serveH1.call(h1, socket);
        socket.resume();
      }
    });
    socket.once("close", () => undecided.delete(socket));
  });

  const closeH1 = h1.close.bind(h1);
  h1.close = (callback?: (error?: Error) => void) => {
    sessions.drain();
    sessions.stop();
    return closeH1(callback);
  };
  const closeIdleH1 = h1.closeIdleConnections.bind(h1);
  h1.closeIdleConnections = () => {
    closeIdleH1();
    // A session with no open stream is idle; close() sends GOAWAY and waits for open streams.
    sessions.drain();
  };
  const closeAllH1 = h1.closeAllConnections.bind(h1);
  const destroyConnections = (): void => {
    closeAllH1();
    sessions.destroyAll();
    for (const socket of undecided) {
      socket.destroy();
    }
  };
  h1.closeAllConnections = destroyConnections;
  return {
    server: h1,
    drain() {
      draining = true;
      closeIdleH1();
      sessions.drain();
    },
    drained: (timeoutMs) => inFlight.drained(timeoutMs),
    destroyConnections,
  };
}

/** Reads until the first bytes show HTTP/2's preface or not, then puts them back and decides. */
function sniff(socket: Socket, timeoutMs: number, decide: (isHttp2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  // Until a server owns the socket, its errors and silence are ours to handle.
  const onError = (): void => {
    socket.destroy();
  };
  const onTimeout = (): void => {
    socket.destroy();
  };
  socket.on("error", onError);
  socket.setTimeout(timeoutMs, onTimeout);
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
