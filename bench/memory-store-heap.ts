// The memory store's heap: per job with retention off and on, and over time under a steady
// create/finish load with a short retention (flat when retention works).
//   node --expose-gc --import tsx bench/memory-store-heap.ts [jobs=100000] [seconds=60] [rate=2000]

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema, JobState } from "../gen/jobs/v1/job_pb.js";
import { newJobId } from "../server/service/job-id.js";
import { createMemoryJobStore, type MemoryJobStore } from "../server/stores/memory-job-store.js";

const [jobs = 100_000, seconds = 60, rate = 2_000] = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error("run with node --expose-gc");
}

/** A job as the service makes it: a request id, timestamps and a duration. */
function newJob(now: number): Job {
  return create(JobSchema, {
    id: newJobId(),
    state: JobState.PENDING,
    requestId: randomUUID(),
    createTime: timestampFromMs(now),
    updateTime: timestampFromMs(now),
    estimatedCompletionTime: timestampFromMs(now + 1_000),
    processingDuration: durationFromMs(1_000),
    version: 1n,
  });
}

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function fill(store: MemoryJobStore, count: number, clock: { now(): number }): Promise<void> {
  for (let i = 0; i < count; i++) {
    const job = newJob(clock.now());
    await store.create(job, `owner-${i % 10}`);
    await store.finish(job.id, { state: JobState.COMPLETED, at: clock.now() });
  }
}

// Heap per job: N jobs created and ended, then (retention on) the clock moved past their retention.
let now = Date.now();
const clock = { now: () => now };
for (const retentionMs of [0, 60_000]) {
  const store = createMemoryJobStore({ retentionMs, idempotencyTtlMs: 60_000, clock });
  const before = heapUsed();
  await fill(store, jobs, clock);
  const filled = heapUsed();
  now += 60_000;
  await store.counts();
  const after = heapUsed();
  console.log(
    `retention ${retentionMs === 0 ? "off" : `${retentionMs / 1000} s`}: ${jobs} jobs held ${((filled - before) / jobs).toFixed(0)} B/job;` +
      ` after the TTLs ${((after - before) / jobs).toFixed(1)} B/job, held ${JSON.stringify(store.held())}`,
  );
  await store.close();
}

// Steady load: `rate` creates and finishes a second on the real clock, 2 s retention and TTL.
const store = createMemoryJobStore({ retentionMs: 2_000, idempotencyTtlMs: 2_000 });
const started = Date.now();
const base = heapUsed();
console.log(`steady load: ${rate} jobs/s for ${seconds} s, retention and TTL 2 s`);
for (let second = 1; second <= seconds; second++) {
  const due = started + second * 1_000;
  for (let tick = 0; tick < 10; tick++) {
    await fill(store, rate / 10, Date);
    await sleep(Math.max(0, started + (second - 1) * 1_000 + (tick + 1) * 100 - Date.now()));
  }
  await sleep(Math.max(0, due - Date.now()));
  if (second % 5 === 0) {
    const held = store.held();
    const mb = (heapUsed() - base) / 1e6;
    console.log(
      `  ${second} s: ${second * rate} made, held ${held.jobs} jobs / ${held.requestIds} ids, heap +${mb.toFixed(2)} MB`,
    );
  }
}
// No calls from here on: the store's one timer gives the rest back.
await sleep(3_500);
console.log(`  idle 3.5 s: held ${JSON.stringify(store.held())}, heap +${((heapUsed() - base) / 1e6).toFixed(2)} MB`);
await store.close();
