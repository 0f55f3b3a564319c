// Holds N long waits on one pending job (gRPC over HTTP/2, or Connect JSON over HTTP/1.1 with
// a socket each), then measures waking one waiter among them and waking all of them at once.
// Both wake-ups are a CancelJob sent from here; each latency runs from sending the cancel to the
// waiter's complete answer. argv[2] is the server URL, argv[3] "h2" or "h1".
import { performance } from "node:perf_hooks";
import { askParent, serveParent } from "../serve-parent.js";
import { summarize } from "../stats.js";
import { type JobCalls, openJobCalls } from "./job-calls.js";
import { type HeldWait, openH1Waits, openH2Waits, type WaitOpener } from "./open-wait.js";
import { within } from "./within.js";

const url = process.argv[2] ?? "";
const protocol = process.argv[3] === "h1" ? "h1" : "h2";
/** HTTP/1.1 waits are opened this many at a time, so the server's accept backlog never overflows. */
const H1_BATCH = 200;
/** The most a wake-up may take before its unanswered waits are counted as lost. */
const ANSWER_TIMEOUT_MS = 60_000;

let calls: JobCalls;
let opener: WaitOpener;
let held: { jobId: string; waits: HeldWait[] } | undefined;

async function setUp(value: { sessions: number }) {
  calls = await openJobCalls(url);
  opener = protocol === "h2" ? await openH2Waits(url, value.sessions) : openH1Waits(url);
}

/** Opens `count` waits on a new pending job; resolves once all are sent (not yet known held). */
async function hold(value: { count: number }) {
  const jobId = await calls.createPendingJob();
  const started = performance.now();
  const waits: HeldWait[] = [];
  for (let i = 0; i < value.count; i += H1_BATCH) {
    const batch = Array.from({ length: Math.min(H1_BATCH, value.count - i) }, () => opener.open(jobId));
    waits.push(...batch);
    await Promise.all(batch.map((wait) => wait.sent));
  }
  held = { jobId, waits };
  return { jobId, sentMs: performance.now() - started };
}

/** Cancels the held job and times every wait's answer from the cancel. */
async function wakeAll() {
  if (held === undefined) {
    throw new Error("hold first");
  }
  const { jobId, waits } = held;
  held = undefined;
  const start = performance.now();
  const cancelled = calls.cancelJob(jobId);
  const answers = await Promise.all(waits.map((wait) => within(wait.answered, ANSWER_TIMEOUT_MS)));
  await cancelled;
  const ok = answers.filter((answer) => answer?.ok === true);
  return {
    answered: ok.length,
    failed: answers.length - ok.length,
    latencyMs: summarize(ok.map((answer) => (answer?.at ?? 0) - start)),
  };
}

/** `reps` times: one waiter on a job of its own, held beside the others, woken by a cancel. */
async function oneWake(value: { reps: number; heldBefore: number }) {
  const latencies: number[] = [];
  let failed = 0;
  for (let i = 0; i < value.reps; i++) {
    const jobId = await calls.createPendingJob();
    const wait = opener.open(jobId);
    await wait.sent;
    await askParent({ heldAtLeast: value.heldBefore + 1 });
    const start = performance.now();
    const cancelled = calls.cancelJob(jobId);
    const answer = await within(wait.answered, ANSWER_TIMEOUT_MS);
    await cancelled;
    if (answer?.ok === true) {
      latencies.push(answer.at - start);
    } else {
      failed++;
    }
  }
  return { failed, latencyMs: summarize(latencies) };
}

serveParent(
  {
    setUp,
    hold,
    wakeAll,
    oneWake,
    close: () => {
      opener.close();
      calls.close();
    },
  },
  {},
);
