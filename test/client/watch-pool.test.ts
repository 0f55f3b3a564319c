import { describe, expect, it } from "vitest";
import { WatchPool } from "../../web/watch-pool.js";

// The page's bound on watches held at once (web/watch-pool.ts), with watches that end on demand.

function recorder(maxActive: number) {
  const running = new Map<string, { signal: AbortSignal; end: () => void }>();
  const started: string[] = [];
  const pool = new WatchPool({
    maxActive,
    watch: (jobId, signal) =>
      new Promise<void>((resolve) => {
        started.push(jobId);
        running.set(jobId, { signal, end: resolve });
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
  });
  const active = () =>
    [...running]
      .filter(([, watch]) => !watch.signal.aborted)
      .map(([id]) => id)
      .sort();
  const end = async (jobId: string) => {
    running.get(jobId)?.end();
    running.delete(jobId);
    await Promise.resolve();
    await Promise.resolve();
  };
  return { pool, started, active, end };
}

describe("WatchPool", () => {
  it("runs at most maxActive watches and starts a queued one when a watch ends", async () => {
    const { pool, active, end } = recorder(2);
    pool.add({ jobId: "a", endsAt: 1 });
    pool.add({ jobId: "b", endsAt: 2 });
    pool.add({ jobId: "c", endsAt: 3 });
    expect(active()).toEqual(["a", "b"]);
    await end("a");
    expect(active()).toEqual(["b", "c"]);
  });

  it("stops the watch of the job ending last to watch one that ends sooner, and resumes it later", async () => {
    const { pool, started, active, end } = recorder(2);
    pool.add({ jobId: "late", endsAt: 100 });
    pool.add({ jobId: "mid", endsAt: 50 });
    pool.add({ jobId: "soon", endsAt: 10 });
    expect(active()).toEqual(["mid", "soon"]);
    await end("soon");
    expect(active()).toEqual(["late", "mid"]);
    expect(started).toEqual(["late", "mid", "soon", "late"]);
  });

  it("ignores a job it already watches or queues, and forgets one on request", async () => {
    const { pool, started, active } = recorder(1);
    pool.add({ jobId: "a", endsAt: 1 });
    pool.add({ jobId: "a", endsAt: 1 });
    pool.add({ jobId: "b", endsAt: 2 });
    expect(started).toEqual(["a"]);
    pool.forget("a");
    expect(active()).toEqual(["b"]);
    expect(pool.isActive("a")).toBe(false);
  });
});
