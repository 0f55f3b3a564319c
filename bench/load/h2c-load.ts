// Load generator for gRPC over HTTP/2 cleartext: `sessions` sessions, each with
// `streamsPerSession` calls in flight, sending one pre-encoded request frame until the time is
// up. Counts answers with grpc-status 0 and records each call's latency.
import http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { serveParent } from "../serve-parent.js";
import { summarize } from "../stats.js";
import { grpcHeaders, grpcUnary } from "./grpc-unary.js";

export interface H2cRun {
  url: string;
  path: string;
  sessions: number;
  streamsPerSession: number;
  durationMs: number;
  /** The framed request (5-byte prefix included). */
  frame: Uint8Array;
}

async function run(spec: H2cRun) {
  const sessions = await Promise.all(Array.from({ length: spec.sessions }, () => connect(spec.url)));
  const headers = grpcHeaders(spec.path);
  const frame = Buffer.from(spec.frame);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let sample: Uint8Array | undefined;
  const started = performance.now();
  const endAt = started + spec.durationMs;
  const loop = async (session: http2.ClientHttp2Session): Promise<void> => {
    while (performance.now() < endAt) {
      const start = performance.now();
      const answer = await grpcUnary(session, headers, frame, sample === undefined);
      if (answer.status === "0") {
        ok++;
        latencies.push(performance.now() - start);
        sample ??= new Uint8Array(answer.message);
      } else {
        failed++;
      }
    }
  };
  await Promise.all(sessions.flatMap((session) => Array.from({ length: spec.streamsPerSession }, () => loop(session))));
  const elapsedMs = performance.now() - started;
  await Promise.all(sessions.map((session) => new Promise((resolve) => session.close(() => resolve(undefined)))));
  return { ok, failed, elapsedMs, rps: (ok / elapsedMs) * 1000, latencyMs: summarize(latencies), sample };
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

serveParent({ run }, {});
