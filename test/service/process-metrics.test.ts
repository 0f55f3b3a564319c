import type { FastifyInstance } from "fastify";
import { afterEach, expect, it, vi } from "vitest";

// prom-client's default collectors cannot be stopped (an event-loop monitor sampling every
// 10 ms, a GC observer): counted here, through the module every server imports.
vi.mock("prom-client", async (importOriginal) => {
  const original = await importOriginal<typeof import("prom-client")>();
  return { ...original, collectDefaultMetrics: vi.fn(original.collectDefaultMetrics) };
});

const { collectDefaultMetrics } = await import("prom-client");
const { buildServer } = await import("../../server/app.js");

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

it("starts the process's metric collectors once, however many servers are built and closed", async () => {
  for (let i = 0; i < 5; i++) {
    const app = buildServer();
    apps.push(app);
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain("process_cpu_user_seconds_total");
    expect(metrics.body).toContain("nodejs_eventloop_lag_seconds");
    expect(metrics.body).toContain("held_waits 0");
  }
  expect(collectDefaultMetrics).toHaveBeenCalledTimes(1);
});
