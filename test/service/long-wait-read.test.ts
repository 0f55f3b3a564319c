import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { changedJob, type JobStore } from "../../server/stores/job-store.js";
import { createMemoryJobStore } from "../../server/stores/memory-job-store.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { storeWith } from "../support/stores/store-with.js";

// A long wait reads its job once: it subscribes first, so a change that lands while the read is
// on its way is heard, not missed, and the wait needs no second read (on Redis, a round trip).

/** A memory store whose reads of `racing` each see a change land right after the read was taken. */
function racingStore(): { store: JobStore; reads: () => number; race(id: string): void } {
  const inner = createMemoryJobStore();
  let racing: string | undefined;
  let reads = 0;
  const store = storeWith(inner, {
    async get(id) {
      const read = await inner.get(id);
      if (id === racing) {
        reads++;
        await inner.update(id, (job) => changedJob(job, { attempt: job.attempt + 1 }, Date.now()));
      }
      return read;
    },
  });
  return { store, reads: () => reads, race: (id) => (racing = id) };
}

describe("a long wait", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers a change that lands while its read is on the way, and reads the job once", async () => {
    const racing = racingStore();
    server = await startServer({ store: racing.store, createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n } });
    racing.race(job!.id);
    // Held for up to 20 s unless the change is heard: it comes back at once, with version 2.
    const answer = await rawClient(server.url).getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n });
    expect(answer.job?.version).toBe(2n);
    expect(racing.reads()).toBe(1);
  });

  it("on a WatchJob stream sends a change that lands while its first read is on the way", async () => {
    const racing = racingStore();
    server = await startServer({ store: racing.store, createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 3_600n } });
    racing.race(job!.id);
    for await (const message of rawClient(server.url).watchJob({ jobId: job!.id, knownVersion: 1n })) {
      expect(message.job?.version).toBe(2n);
      break;
    }
    expect(racing.reads()).toBe(1);
  });

  it("on a WatchJob stream reads its job once before its first wait, and answers the change that comes", async () => {
    const inner = createMemoryJobStore();
    let reads = 0;
    const store = storeWith(inner, {
      get(id) {
        reads++;
        return inner.get(id);
      },
    });
    server = await startServer({ store, createRate: 0, shortPollRate: 0 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { nanos: 300_000_000 } });
    const states: JobState[] = [];
    for await (const message of rawClient(server.url).watchJob({ jobId: job!.id })) {
      states.push(message.job!.state);
    }
    expect(states).toEqual([JobState.PENDING, JobState.COMPLETED]);
    expect(reads).toBe(1);
    await store.close();
  });
});
