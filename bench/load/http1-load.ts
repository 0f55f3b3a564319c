// Load generator for HTTP/1.1: autocannon's programmatic API, `connections` keep-alive
// connections with one request in flight each, for `durationS` seconds. Latencies are taken
// from its per-response events (sub-millisecond, 2xx only), not its whole-ms histogram.

import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { serveParent } from "../serve-parent.js";
import { summarize } from "../stats.js";

export interface Http1Run {
  url: string;
  connections: number;
  durationS: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

async function run(spec: Http1Run) {
  const latencies: number[] = [];
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: "POST",
        connections: spec.connections,
        duration: spec.durationS,
        headers: spec.headers,
        body: Buffer.from(spec.body),
        timeout: 10,
      },
      (error, done) => (error === null || error === undefined ? resolve(done) : reject(error)),
    );
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        latencies.push(responseTime);
      }
    });
  });
  const elapsedMs = performance.now() - started;
  const ok = result["2xx"];
  return {
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    elapsedMs,
    rps: (ok / elapsedMs) * 1000,
    latencyMs: summarize(latencies),
  };
}

serveParent({ run }, {});
