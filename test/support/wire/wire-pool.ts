import http from "node:http";
import { type ClientHttp2Session, connect as connectHttp2, constants, type IncomingHttpHeaders } from "node:http2";
import type { RawAnswer } from "./raw-http.js";

// Raw requests as raw-http.ts sends them, but over connections kept and reused as clients keep
// them (HTTP/1.1 keep-alive, one HTTP/2 session per server), and with the body's length declared
// or not, as the caller chooses.

/** One POST, sent byte for byte as given. */
export interface WireRequest {
  /** Such as http://127.0.0.1:41234 */
  url: string;
  path: string;
  httpVersion: "1.1" | "2";
  headers: Record<string, string>;
  body: Uint8Array;
  /**
   * Whether the request says its length (Content-Length). Without it, an HTTP/1.1 body goes
   * chunked and an HTTP/2 one simply ends with its last DATA frame.
   */
  declareLength: boolean;
}

/** The connections of a test: HTTP/1.1 keep-alive sockets and one HTTP/2 session per server. */
export interface WirePool {
  send(request: WireRequest): Promise<RawAnswer>;
  /** Closes every connection the pool opened; resolves once they are closed. */
  close(): Promise<void>;
}

/** A pool for raw requests, which reuses connections as clients do. Close it when done. */
export function createWirePool(): WirePool {
  const agent = new http.Agent({ keepAlive: true });
  const sessions = new Map<string, ClientHttp2Session>();
  const opened: ClientHttp2Session[] = [];
  const session = (url: string): ClientHttp2Session => {
    let found = sessions.get(url);
    // One the server told to go (GOAWAY) takes no new stream: the next request opens another.
    if (found === undefined || found.closed || found.destroyed) {
      found = connectHttp2(url);
      // An error ends the session's streams, which reject their own calls.
      found.on("error", () => undefined);
      sessions.set(url, found);
      opened.push(found);
    }
    return found;
  };
  return {
    send: (request) => (request.httpVersion === "1.1" ? sendHttp1(agent, request) : sendHttp2(session(request.url), request)),
    async close() {
      agent.destroy();
      await Promise.all(opened.map(closeSession));
    },
  };
}

/** Resolves once `session` is closed; one the server sent GOAWAY is closing already. */
function closeSession(session: ClientHttp2Session): Promise<void> {
  if (session.destroyed) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    session.once("close", resolve);
    session.close();
  });
}

function sendHttp1(agent: http.Agent, request: WireRequest): Promise<RawAnswer> {
  const length: Record<string, string> = request.declareLength
    ? { "content-length": String(request.body.byteLength) }
    : { "transfer-encoding": "chunked" };
  return new Promise((resolve, reject) => {
    const req = http.request(`${request.url}${request.path}`, {
      method: "POST",
      agent,
      headers: { ...request.headers, ...length },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: fields(res.headers),
          trailers: fields(res.trailers),
          headersEndedStream: false,
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.end(request.body);
  });
}

function sendHttp2(session: ClientHttp2Session, request: WireRequest): Promise<RawAnswer> {
  const length: Record<string, string> = request.declareLength ? { "content-length": String(request.body.byteLength) } : {};
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": request.path, ...request.headers, ...length });
    const answer: RawAnswer = { status: 0, headers: {}, trailers: {}, headersEndedStream: false, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on("response", (headers, flags) => {
      answer.status = Number(headers[":status"]);
      answer.headers = fields(headers);
      answer.headersEndedStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on("trailers", (trailers) => {
      answer.trailers = fields(trailers);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ ...answer, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(request.body);
  });
}

/** Header fields as strings, without pseudo-headers; repeated ones joined as HTTP joins them. */
function fields(headers: IncomingHttpHeaders | NodeJS.Dict<string | string[]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !name.startsWith(":")) {
      result[name] = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }
  return result;
}
