// BullMQ's own worker, as its own process (as our server is beside the load): `new Worker(name,
// processor, { concurrency })`, the processor a no-op that answers { ok: true } and the moment
// it was called (wall clock, ms: the claim latency's end, read across processes on this machine).
// Started and stopped by the runner for each concurrency. argv[2] is a JSON BullmqTarget.
import { Worker } from "bullmq";
import { serveParent } from "../serve-parent.js";
import { type BullmqTarget, connectionOf } from "./bullmq-target.js";
import { wallClockMs } from "./watch-stream.js";

const target = JSON.parse(process.argv[2] ?? "{}") as BullmqTarget;
let worker: Worker | undefined;

async function start(value: { concurrency: number }) {
  await stop();
  worker = new Worker(target.queue, async () => ({ ok: true, calledAt: wallClockMs() }), {
    connection: connectionOf(target.redisUrl),
    prefix: target.prefix,
    concurrency: value.concurrency,
  });
  worker.on("error", () => undefined);
  await worker.waitUntilReady();
}

async function stop() {
  await worker?.close();
  worker = undefined;
}

serveParent({ start, stop }, {});
