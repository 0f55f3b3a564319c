import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { untilHeld } from "../support/held-count.js";
import { postJson, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// GET /metrics in Prometheus's text format: jobs by state, held waits, wakes and their delay,
// evictions, rate-limited calls, and RPCs by method and code with their duration.

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

function value(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ shortPollRate: 2, maxHeldWaits: 2 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("shows the held-waits gauge above zero while a wait is held, and back at zero after", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 60n } });
    const controller = new AbortController();
    const waiting = raw
      .getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal })
      .catch(() => undefined);
    await untilHeld(server.url, 1);
    controller.abort();
    await waiting;
    await untilHeld(server.url, 0);
  });

  it("counts jobs by state, wakes with their delay, and RPCs by method and code", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { nanos: 200_000_000 } });
    await raw.getStatus({ jobId: job!.id, wait: { seconds: 5n }, knownVersion: 1n });
    await postJson(server.url, "GetStatus", { jobId: "nope" });
    const metrics = await scrape(server.url);
    expect(value(metrics, 'jobs{state="completed"}')).toBeGreaterThanOrEqual(1);
    expect(value(metrics, 'jobs{state="pending"}')).toBeGreaterThanOrEqual(0);
    expect(value(metrics, "wakes_total")).toBeGreaterThanOrEqual(1);
    expect(value(metrics, "wake_delay_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(value(metrics, 'rpc_requests_total{method="jobs.v1.JobService/CreateJob",code="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value(metrics, 'rpc_requests_total{method="jobs.v1.JobService/GetStatus",code="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value(metrics, 'rpc_requests_total{method="jobs.v1.JobService/GetStatus",code="invalid_argument"}')).toBe(1);
    expect(metrics).toContain('rpc_duration_seconds_bucket{le="0.001",method="jobs.v1.JobService/GetStatus"}');
  });

  it("counts rate-limited calls and evictions", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 60n } });
    for (let i = 0; i < 4; i++) {
      await raw.getStatus({ jobId: job!.id }).catch(() => undefined);
    }
    // Three waits of 20 s on a cap of two: the first answer can only be an eviction.
    const controller = new AbortController();
    const waits = [1, 2, 3].map(() =>
      raw.getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal }),
    );
    for (const wait of waits) {
      wait.catch(() => undefined);
    }
    try {
      await Promise.race(waits);
    } finally {
      controller.abort();
    }
    await untilHeld(server.url, 0);
    const metrics = await scrape(server.url);
    expect(value(metrics, 'rate_limited_total{limit="short_poll"}')).toBeGreaterThanOrEqual(1);
    expect(value(metrics, "evictions_total")).toBeGreaterThanOrEqual(1);
  });
});
