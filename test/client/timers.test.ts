import { createHook } from "node:async_hooks";
import { setImmediate as nextTurn } from "node:timers/promises";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CallAbortedError,
  DeadlineExceededError,
  JOB_STATUS,
  JobClient,
  POLLING_MODES,
  type PollingMode,
} from "../../client/index.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Every wait lets go of its timers when it ends: a timer left running keeps a Node process (a
// script, the CLI) alive until it fires. The server runs in a process of its own, so that the
// timers counted here are the client's alone. Each wait gets a timeout of ten minutes: a timer
// left behind by it would still be running long after these tests end.

const TEN_MINUTES = 10 * 60_000;

/**
 * Counts the timers (setTimeout, setInterval) made from now on that are still running and keep
 * the process alive. Timers made before, by vitest or by earlier tests, are not counted.
 */
function trackTimers(): { running(): Promise<number>; stop(): void } {
  const made = new Map<number, NodeJS.Timeout>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (type === "Timeout") {
        made.set(asyncId, resource as NodeJS.Timeout);
      }
    },
    // A timer is destroyed when it has fired (setTimeout) or been cleared.
    destroy(asyncId) {
      made.delete(asyncId);
    },
  }).enable();
  return {
    async running() {
      // Let callbacks already due (an abort's, a socket's close, the destroy hooks) run first.
      for (let turn = 0; turn < 20; turn++) {
        await nextTurn();
      }
      return [...made.values()].filter((timer) => timer.hasRef()).length;
    },
    stop: () => hook.disable(),
  };
}

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer({ SHORT_POLL_RATE: "0", CREATE_RATE: "0" });
});
afterAll(async () => {
  await server?.stop();
});

const transports: [string, (baseUrl: string) => Transport][] = [
  ["Connect over fetch", (baseUrl) => createConnectTransport({ baseUrl })],
  ["gRPC", (baseUrl) => createGrpcTransport({ baseUrl })],
];

describe.each(transports)("a wait that ends (%s)", (_name, makeTransport) => {
  let client: JobClient;
  beforeAll(() => {
    client = new JobClient({ transport: makeTransport(server.url) });
  });
  let tracking: ReturnType<typeof trackTimers> | undefined;
  const track = () => (tracking = trackTimers());
  afterEach(() => tracking?.stop());

  const modes: PollingMode[] = [POLLING_MODES.LONG, POLLING_MODES.SHORT, POLLING_MODES.STREAM];
  for (const mode of modes) {
    it(`leaves no timer running once awaitCompletion resolves in ${mode.toUpperCase()} mode`, async () => {
      const job = await client.createJob({ processingDurationMs: 300 });
      const timers = track();
      const done = await client.awaitCompletion(job.id, { mode, timeoutMs: TEN_MINUTES, pollIntervalMs: 100 });
      expect(done.state).toBe(JOB_STATUS.COMPLETED);
      expect(await timers.running()).toBe(0);
    });

    it(`leaves no timer running once awaitCompletion is aborted in ${mode.toUpperCase()} mode`, async () => {
      const job = await client.createJob({ processingDurationMs: 60_000 });
      const timers = track();
      const abort = new AbortController();
      const wait = client.awaitCompletion(job.id, {
        mode,
        timeoutMs: TEN_MINUTES,
        pollIntervalMs: 60_000,
        signal: abort.signal,
        // By the next turn of the event loop the wait after the first read is under way: a
        // held call, a stream being read, or the sleep before the next poll.
        onUpdate: () => setImmediate(() => abort.abort(new Error("enough"))),
      });
      await expect(wait).rejects.toBeInstanceOf(CallAbortedError);
      expect(await timers.running()).toBe(0);
    });

    it(`leaves no timer running once awaitCompletion times out in ${mode.toUpperCase()} mode`, async () => {
      const job = await client.createJob({ processingDurationMs: 60_000 });
      const timers = track();
      const wait = client.awaitCompletion(job.id, { mode, timeoutMs: 500, pollIntervalMs: 100 });
      await expect(wait).rejects.toBeInstanceOf(DeadlineExceededError);
      expect(await timers.running()).toBe(0);
    });
  }

  it("leaves no timer running once watch() has yielded the job's end", async () => {
    const job = await client.createJob({ processingDurationMs: 300, shouldError: true });
    const timers = track();
    const states = [];
    for await (const update of client.watch(job.id, { timeoutMs: TEN_MINUTES })) {
      states.push(update.state);
    }
    expect(states).toEqual([JOB_STATUS.PENDING, JOB_STATUS.ERROR]);
    expect(await timers.running()).toBe(0);
  });

  it("leaves no timer running once the caller breaks out of watch()", async () => {
    const job = await client.createJob({ processingDurationMs: 60_000 });
    const timers = track();
    for await (const update of client.watch(job.id, { timeoutMs: TEN_MINUTES })) {
      expect(update.state).toBe(JOB_STATUS.PENDING);
      break;
    }
    expect(await timers.running()).toBe(0);
  });

  it("leaves no timer running once awaitAll resolves, awaitAny resolves, or awaitAll times out", async () => {
    const ending = await Promise.all([300, 500].map((ms) => client.createJob({ processingDurationMs: ms })));
    const timers = track();
    const all = await client.awaitAll(
      ending.map((job) => job.id),
      { timeoutMs: TEN_MINUTES },
    );
    expect(all.map((job) => job.state)).toEqual([JOB_STATUS.COMPLETED, JOB_STATUS.COMPLETED]);
    expect(await timers.running()).toBe(0);

    const mixed = await Promise.all([60_000, 300].map((ms) => client.createJob({ processingDurationMs: ms })));
    const first = await client.awaitAny(
      mixed.map((job) => job.id),
      { timeoutMs: TEN_MINUTES },
    );
    expect(first.id).toBe(mixed[1]?.id);
    expect(await timers.running()).toBe(0);

    const late = client.awaitAll(
      mixed.map((job) => job.id),
      { timeoutMs: 500 },
    );
    await expect(late).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(await timers.running()).toBe(0);
  });

  it("leaves no timer running once STREAM mode, falling back to long waits, resolves", async () => {
    // A JobService with GetStatus (asking the real server) but no WatchJob: UNIMPLEMENTED.
    const upstream = new JobClient({ transport: makeTransport(server.url) });
    const transport = createRouterTransport(({ service }) =>
      service(JobService, {
        getStatus: async (req) => {
          const waitMs = req.wait === undefined ? 0 : durationMs(req.wait);
          return { job: (await upstream.getStatus(req.jobId, { waitMs, knownVersion: req.knownVersion })).job };
        },
      }),
    );
    const job = await upstream.createJob({ processingDurationMs: 300 });
    const timers = track();
    const done = await new JobClient({ transport }).awaitCompletion(job.id, {
      mode: POLLING_MODES.STREAM,
      timeoutMs: TEN_MINUTES,
    });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
    expect(await timers.running()).toBe(0);
  });
});
