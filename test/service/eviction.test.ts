import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { JOB_STATUS, POLLING_MODES } from "../../client/index.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { captureLog } from "../support/capture-log.js";
import { heldCount, untilHeld } from "../support/held-count.js";
import { metricValue } from "../support/metric-value.js";
import { clientFor, postJson, rawClient, startServer } from "../support/start-server.js";

// MAX_HELD_WAITS: past the global cap the oldest held wait is answered early with its unchanged
// job and a poll hint (a watch ends with RESOURCE_EXHAUSTED and RetryInfo), never dropped.
// The servers keep their own registry (its evictions are logged and raise the hint), so the
// tests read how many waits are held from the held_waits gauge.

describe("evicting held waits past MAX_HELD_WAITS", () => {
  it("answers the oldest long wait at once with HTTP 200, the unchanged job and a hint of about a second, holding the others", async () => {
    const log = captureLog("warn");
    const server = await startServer({ maxHeldWaits: 2, logger: log.logger });
    const controller = new AbortController();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const longWait = { jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n };
      const first = postJson(server.url, "GetStatus", { jobId: job!.id, wait: "20s", knownVersion: "1" });
      await untilHeld(server.url, 1);
      const second = raw.getStatus(longWait, { signal: controller.signal });
      second.catch(() => undefined);
      // Both held, at the cap: the first has not been answered.
      await untilHeld(server.url, 2);

      const started = Date.now();
      const third = raw.getStatus(longWait, { signal: controller.signal });
      third.catch(() => undefined);
      const answer = await first;

      // Its own wait is 20 s: answered well before that, it was evicted, however loaded the machine.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(answer.status).toBe(200);
      expect(answer.body.job).toMatchObject({ id: job!.id, state: "JOB_STATE_PENDING", version: "1" });
      // A second, spread over half to one and a half times so that evicted callers return apart.
      const hintMs = parseFloat(String(answer.body.nextPollAfter)) * 1000;
      expect(hintMs).toBeGreaterThanOrEqual(500);
      expect(hintMs).toBeLessThanOrEqual(1_500);
      // The other two are held (the third took the first one's place), and only one was evicted.
      expect(await heldCount(server.url)).toBe(2);
      expect(await metricValue(server.url, "evictions_total")).toBe(1);
      const warnings = log.entries().filter((entry) => entry.heldWaits !== undefined);
      expect(warnings).toMatchObject([{ level: 40, heldWaits: 2, evictions: 1 }]);
    } finally {
      controller.abort();
      await server.close();
    }
  });

  it("ends an evicted WatchJob stream with RESOURCE_EXHAUSTED carrying RetryInfo", async () => {
    const server = await startServer({ maxHeldWaits: 1 });
    const controller = new AbortController();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const watch = raw.watchJob({ jobId: job!.id }, { signal: controller.signal })[Symbol.asyncIterator]();
      expect((await watch.next()).value?.job?.version).toBe(1n);
      const ended = watch.next();
      // Held again after its first answer: the long wait below takes its place.
      await untilHeld(server.url, 1);

      void raw
        .getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal })
        .catch(() => undefined);
      const error = await ended.then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
      const [retryInfo] = (error as ConnectError).findDetails(RetryInfoSchema);
      expect(durationMs(retryInfo!.retryDelay!)).toBeGreaterThanOrEqual(500);
      expect(durationMs(retryInfo!.retryDelay!)).toBeLessThanOrEqual(1_500);
    } finally {
      controller.abort();
      await server.close();
    }
  });

  it("lets JobClient.awaitCompletion in LONG mode resolve COMPLETED through evictions", async () => {
    const log = captureLog("warn");
    const server = await startServer({ maxHeldWaits: 1, logger: log.logger });
    try {
      const clients = [1, 2, 3].map(() => clientFor(server.url));
      const job = await clients[0]!.client.createJob({ processingDurationMs: 2_500 });
      const done = await Promise.all(
        clients.map(({ client }) => client.awaitCompletion(job.id, { mode: POLLING_MODES.LONG, timeoutMs: 10_000 })),
      );

      expect(done.map((j) => j.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED]);
      // However many evictions, one line in the log within ten seconds.
      expect(log.entries().filter((entry) => entry.heldWaits !== undefined)).toHaveLength(1);
      // Evicted waiters waited out the hint instead of asking again at once.
      const calls = clients.reduce((sum, { counter }) => sum + counter.total("GetStatus"), 0);
      expect(calls).toBeLessThan(20);
    } finally {
      await server.close();
    }
  });

  it("raises and spreads the hint while evictions go on, and logs them once in a while", async () => {
    const log = captureLog("warn");
    const server = await startServer({ maxHeldWaits: 1, logger: log.logger });
    const controller = new AbortController();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 60n } });
      const longWait = () => {
        const wait = raw.getStatus({ jobId: job!.id, wait: { seconds: 30n }, knownVersion: 1n }, { signal: controller.signal });
        // The last one is still held when the test aborts it.
        wait.catch(() => undefined);
        return wait;
      };
      // Each new wait evicts the one held before it, for three seconds in a row.
      const hints: number[] = [];
      let previous = longWait();
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        const next = longWait();
        const answer = await previous;
        hints.push(durationMs(answer.nextPollAfter!));
        previous = next;
      }
      expect(hints.length).toBeGreaterThan(10);
      // From one second (500-1500 ms) up to at least four (2000-6000 ms) by the third second.
      expect(Math.min(...hints)).toBeGreaterThanOrEqual(500);
      expect(Math.max(...hints)).toBeGreaterThan(2_000);
      expect(new Set(hints).size).toBeGreaterThan(hints.length / 2);
      const lines = log.entries().filter((entry) => entry.heldWaits !== undefined);
      expect(lines).toHaveLength(1);
    } finally {
      controller.abort();
      await server.close();
    }
  });

  it("logs nothing and evicts nothing below the cap", async () => {
    const log = captureLog("warn");
    const server = await startServer({ maxHeldWaits: 3, logger: log.logger });
    const controller = new AbortController();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const waits = [1, 2, 3].map(() =>
        raw
          .getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal })
          .catch(() => "aborted"),
      );
      // All three held at once, none evicted: the registry is at the cap and has not passed it.
      await untilHeld(server.url, 3);
      expect(await metricValue(server.url, "evictions_total")).toBe(0);
      expect(log.text()).toBe("");
      // None was answered: each ends by the caller's abort.
      controller.abort();
      expect(await Promise.all(waits)).toEqual(["aborted", "aborted", "aborted"]);
    } finally {
      controller.abort();
      await server.close();
    }
  });
});
