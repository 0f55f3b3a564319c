// The server under test, as its own process: buildServer() on 127.0.0.1:0. argv[2] is a JSON
// object of ServerOptions settings, plus two of this file's own:
// - `compiled: true` builds it from jobs/dist/server (what `npm start` runs, built by `npm run
//   build`) rather than from the TypeScript through tsx;
// - `endOnCommand: true` makes the memory store here and hands it to buildServer (its `store`
//   option), so that the "end" command can end many pending jobs at one moment: one loop of the
//   store's finish(), which is what the server's own timer calls when a simulated job ends.
// Answers "memory" (after a forced GC; start it with --expose-gc), "held" (how many long waits
// and watches it holds), "end", and "profileStart"/"profileStop" (BENCH_CPU_PROFILE) over IPC.
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import type { ServerOptions } from "../../server/server-options.js";
import type { JobStore } from "../../server/stores/job-store.js";
import { serveParent } from "../serve-parent.js";
import { burstProfiler } from "./burst-profiler.js";

type Settings = ServerOptions & { compiled?: boolean; endOnCommand?: boolean };
const { compiled = false, endOnCommand = false, ...options } = JSON.parse(process.argv[2] ?? "{}") as Settings;
// The two trees have the same modules; all parts must come from the same one.
const from = compiled ? "../../jobs/dist/server" : "../../server";
const { buildServer } = (await import(`${from}/app.js`)) as typeof import("../../server/app.js");
const { HeldWaits } = (await import(`${from}/waits/held-waits.js`)) as typeof import("../../server/waits/held-waits.js");
const { createMemoryJobStore } = (await import(
  `${from}/stores/memory-job-store.js`
)) as typeof import("../../server/stores/memory-job-store.js");

// Our own registry, so the runner can tell when every wait it opened is held.
const heldWaits = new HeldWaits({ maxPerCaller: options.maxWaitsPerCaller, maxTotal: options.maxHeldWaits });
// As buildServer would make it (its settings, defaults filled in by the store), but ours to reach.
const store: JobStore | undefined = endOnCommand
  ? createMemoryJobStore({
      retentionMs: options.jobRetentionMs,
      idempotencyTtlMs: options.idempotencyTtlMs,
      maxEndedJobs: options.maxEndedJobs,
    })
  : undefined;
const app = buildServer({ ...options, store, heldWaits, logger: false });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") {
  throw new Error("the server has no TCP address");
}

/** Ends every job of `ids` that is pending, COMPLETED, all with the same update_time, in one loop. */
function end(value: { ids: string[] }) {
  if (store === undefined) {
    throw new Error("start this server with endOnCommand: true");
  }
  const at = Date.now();
  const started = performance.now();
  for (const id of value.ids) {
    void store.finish(id, { state: JobState.COMPLETED, at });
  }
  return { at, loopMs: performance.now() - started };
}

const profiler = burstProfiler();
serveParent(
  {
    profileStart: () => profiler.start(),
    profileStop: (value: { name: string }) => profiler.stop(value),
    memory: () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      return { ...process.memoryUsage(), gcForced: gc !== undefined };
    },
    held: () => heldWaits.size,
    end,
  },
  { url: `http://127.0.0.1:${address.port}`, compiled },
);
process.once("SIGTERM", () => {
  // The store is ours when we made it: buildServer leaves a store it was given open.
  void app
    .close()
    .then(() => store?.close())
    .finally(() => process.exit(0));
});
