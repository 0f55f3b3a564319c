import http2, { type Http2Server, type Http2Session, type ServerHttp2Stream } from "node:http2";

/** How often a connection with open streams is pinged, to learn that a silent peer is gone. */
export const PING_INTERVAL_MS = 30_000;
/** A ping not answered within this long ends its connection (and so its held waits). */
export const PING_TIMEOUT_MS = 20_000;
/** How often the sessions are looked over (idle ones, unanswered pings, late request bodies). */
const TICK_MS = 1_000;
/**
 * Streams a peer may reset before their answer, at once and then per second, before its session
 * is ended (a rapid-reset attack). Tighter than nghttp2's own guard (1000, then 33 per second),
 * which stops reading the session but leaves it, and its socket, open until the idle timeout.
 */
const RESET_BURST = 500;
const RESETS_PER_SECOND = 33;

export interface Http2SessionLimits {
  /** A session with no open stream for this long is closed (GOAWAY), in ms. */
  idleTimeoutMs: number;
  /** A stream whose request has not fully arrived this long after its headers is reset, in ms. */
  requestTimeoutMs: number;
  /** Streams whose request may stay open as long as the call (bidirectional streams): no request timeout. */
  isOpenEnded?: (stream: ServerHttp2Stream, path: string) => boolean;
  /** @default PING_INTERVAL_MS */
  pingIntervalMs?: number;
  /** @default PING_TIMEOUT_MS */
  pingTimeoutMs?: number;
}

/** The HTTP/2 sessions of a server, kept within their limits. */
export interface Http2Sessions {
  readonly size: number;
  /** Asks every session to go (GOAWAY, letting open streams finish), and each new one after its first stream. */
  drain(): void;
  /** Ends every session: at once those with open streams, gracefully (within a second) the others. */
  destroyAll(): void;
  /** Stops looking over sessions (the server is closed). */
  stop(): void;
}

/** How long a session with nothing in flight is given to send its last frames when the server closes, in ms. */
const LAST_WORDS_MS = 1_000;

interface SessionState {
  streams: number;
  /** When the last stream closed (or the session began), for the idle timeout. */
  idleSince: number;
  /** When the outstanding ping was sent; undefined when none is outstanding. */
  pingSentAt: number | undefined;
  lastPingAt: number;
  /** Early resets the peer may still make (a token bucket), and when it was last filled. */
  resetAllowance: number;
  resetFilledAt: number;
}

/**
 * Keeps the sessions of `server` bounded in time: a session with nothing open is closed after
 * the idle timeout; one with open streams is pinged, and ended when the peer stops answering (a
 * held wait must not outlive its caller's machine); a request body still arriving after the
 * request timeout has its stream reset; a session that errs (a protocol violation, the
 * rapid-reset guard) is destroyed at once, so its socket is never left behind. One timer looks
 * over all sessions, rather than a timer per session or per stream.
 */
export function guardHttp2Sessions(server: Http2Server, limits: Http2SessionLimits): Http2Sessions {
  const sessions = new Map<Http2Session, SessionState>();
  /** Streams whose request is still arriving, with when their headers came. */
  const receiving = new Map<ServerHttp2Stream, number>();
  /** Streams this guard reset itself: not counted as the peer's resets. */
  const cut = new WeakSet<ServerHttp2Stream>();
  const pingIntervalMs = limits.pingIntervalMs ?? PING_INTERVAL_MS;
  const pingTimeoutMs = limits.pingTimeoutMs ?? PING_TIMEOUT_MS;
  const tickMs = Math.min(TICK_MS, pingIntervalMs, pingTimeoutMs);
  let draining = false;

  server.on("session", (session: Http2Session) => {
    const now = Date.now();
    const state: SessionState = {
      streams: 0,
      idleSince: now,
      pingSentAt: undefined,
      lastPingAt: now,
      resetAllowance: RESET_BURST,
      resetFilledAt: now,
    };
    sessions.set(session, state);
    // Without a listener an error would be thrown; with one, the session is destroyed right here,
    // which also destroys its socket (the rapid-reset guard ends sessions with such an error).
    session.on("error", () => session.destroy());
    session.on("frameError", () => session.destroy());
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    // A reset by the peer (a cancelled call) errs the stream; whoever serves it learns it from
    // "close". Without a listener that error would be thrown, and end the process.
    stream.on("error", ignore);
    const session = stream.session;
    const state = session === undefined ? undefined : sessions.get(session);
    if (state !== undefined) {
      state.streams++;
      stream.once("close", () => {
        state.streams--;
        if (state.streams === 0) {
          state.idleSince = Date.now();
        }
        if (
          stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR &&
          !stream.headersSent &&
          !cut.has(stream) &&
          session !== undefined
        ) {
          resetByPeer(session, state);
        }
      });
    }
    const path = String(headers[":path"] ?? "");
    if (!stream.endAfterHeaders && limits.isOpenEnded?.(stream, path) !== true) {
      receiving.set(stream, Date.now());
      const done = (): void => {
        receiving.delete(stream);
      };
      stream.once("end", done);
      stream.once("close", done);
    }
    if (draining && session !== undefined && !session.closed) {
      // GOAWAY names this stream as the last one taken: it is served, the peer opens no more here.
      session.close();
    }
  });

  const tick = setInterval(() => {
    const now = Date.now();
    for (const [stream, since] of receiving) {
      if (now - since >= limits.requestTimeoutMs) {
        receiving.delete(stream);
        cut.add(stream);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
    }
    for (const [session, state] of sessions) {
      if (session.closed || session.destroyed) {
        continue;
      }
      if (state.streams === 0) {
        state.pingSentAt = undefined;
        if (now - state.idleSince >= limits.idleTimeoutMs) {
          session.close();
        }
        continue;
      }
      if (state.pingSentAt !== undefined) {
        if (now - state.pingSentAt >= pingTimeoutMs) {
          session.destroy();
        }
      } else if (now - state.lastPingAt >= pingIntervalMs) {
        ping(session, state, now);
      }
    }
  }, tickMs);
  tick.unref();

  return {
    get size() {
      return sessions.size;
    },
    drain() {
      draining = true;
      for (const session of sessions.keys()) {
        if (!session.closed) {
          session.close();
        }
      }
    },
    destroyAll() {
      for (const [session, state] of sessions) {
        if (state.streams > 0) {
          session.destroy();
        } else if (!session.destroyed) {
          // Nothing in flight: its last answers may still be on their way out, which destroy()
          // would cut (a gRPC client then sees its stream end without trailers). close() lets
          // them go and ends the socket; destroy() only if the peer keeps it open past a moment.
          session.close();
          setTimeout(() => session.destroy(), LAST_WORDS_MS).unref();
        }
      }
    },
    stop() {
      clearInterval(tick);
    },
  };
}

function ignore(): void {}

/** Counts a stream reset before its answer; past the allowance, the session ends now. */
function resetByPeer(session: Http2Session, state: SessionState): void {
  const now = Date.now();
  state.resetAllowance = Math.min(RESET_BURST, state.resetAllowance + ((now - state.resetFilledAt) * RESETS_PER_SECOND) / 1000);
  state.resetFilledAt = now;
  state.resetAllowance--;
  if (state.resetAllowance < 0 && !session.destroyed) {
    session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

function ping(session: Http2Session, state: SessionState, now: number): void {
  state.pingSentAt = now;
  state.lastPingAt = now;
  try {
    session.ping((error) => {
      if (error === null) {
        state.pingSentAt = undefined;
      }
    });
  } catch {
    // Too many pings outstanding, or the session is going: the timeout above settles it.
  }
}
