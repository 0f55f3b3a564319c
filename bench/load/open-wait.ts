import http from "node:http";
import http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { grpcHeaders, grpcUnary } from "./grpc-unary.js";
import { longWaitFrame, longWaitJson } from "./job-calls.js";

/** One long wait in flight. */
export interface HeldWait {
  /** Resolves once the request is written out. */
  sent: Promise<void>;
  /**
   * Resolves when the answer is complete: whether it was a success, when (performance.now()),
   * and over HTTP/2 the answer's message (GetStatusResponse, unframed).
   */
  answered: Promise<{ ok: boolean; at: number; message?: Buffer }>;
}

/** Opens long waits on one server: gRPC streams over a few HTTP/2 sessions, or one HTTP/1.1 socket each. */
export interface WaitOpener {
  open(jobId: string): HeldWait;
  close(): void;
}

const GET_STATUS = "/jobs.v1.JobService/GetStatus";

/** Long waits as gRPC calls, spread round-robin over `sessions` HTTP/2 sessions. */
export async function openH2Waits(url: string, sessions: number): Promise<WaitOpener> {
  const opened = await Promise.all(
    Array.from({ length: sessions }, async () => {
      const session = http2.connect(url);
      await new Promise((resolve, reject) => session.once("connect", resolve).once("error", reject));
      session.on("error", () => undefined);
      return session;
    }),
  );
  const headers = grpcHeaders(GET_STATUS);
  let next = 0;
  return {
    open(jobId) {
      const session = opened[next++ % opened.length] as http2.ClientHttp2Session;
      const answered = grpcUnary(session, headers, longWaitFrame(jobId)).then((answer) => ({
        ok: answer.status === "0",
        at: performance.now(),
        message: answer.message,
      }));
      return { sent: Promise.resolve(), answered };
    },
    close() {
      for (const session of opened) {
        session.destroy();
      }
    },
  };
}

/**
 * Long waits as Connect JSON calls over HTTP/1.1, each on a socket of its own. Sockets are kept
 * alive, so it is this side that closes them (past one kept free): a server that closed first
 * would keep TIME_WAIT entries that the next connects on loopback may collide with, and stall 1 s.
 */
export function openH1Waits(url: string): WaitOpener {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1 });
  const { hostname, port } = new URL(url);
  return {
    open(jobId) {
      const body = longWaitJson(jobId);
      const request = http.request({
        agent,
        host: hostname,
        port,
        path: GET_STATUS,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "content-length": Buffer.byteLength(body),
        },
      });
      const sent = new Promise<void>((resolve) => {
        request.once("finish", resolve);
        request.once("error", () => resolve());
      });
      const answered = new Promise<{ ok: boolean; at: number }>((resolve) => {
        request.once("response", (response) => {
          response.resume();
          response.once("end", () => resolve({ ok: response.statusCode === 200, at: performance.now() }));
          response.once("error", () => resolve({ ok: false, at: performance.now() }));
        });
        request.once("error", () => resolve({ ok: false, at: performance.now() }));
      });
      request.end(body);
      return { sent, answered };
    },
    close() {
      agent.destroy();
    },
  };
}
