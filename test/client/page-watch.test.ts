import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type Job, JobNotFoundError } from "../../client/index.js";
import { JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { PageWatch } from "../../web/page-watch.js";

// The page's one watch over all its pending jobs (web/page-watch.ts), with watches the test feeds.

/** A watch the test drives: the jobs it was opened for, and a way to send it a job or end it. */
interface OpenWatch {
  jobIds: readonly string[];
  signal: AbortSignal;
  send(job: Job): void;
  fail(error: unknown): void;
}

function recorder() {
  const opened: OpenWatch[] = [];
  const seen: string[] = [];
  const failures: Array<{ jobIds: readonly string[]; error: unknown }> = [];
  const watch = new PageWatch({
    watch: (jobIds, signal) => {
      const queue: Array<Job | { error: unknown }> = [];
      let wake: (() => void) | undefined;
      const push = (item: Job | { error: unknown }) => {
        queue.push(item);
        wake?.();
      };
      signal.addEventListener("abort", () => wake?.(), { once: true });
      opened.push({ jobIds, signal, send: push, fail: (error) => push({ error }) });
      return (async function* () {
        while (!signal.aborted) {
          const item = queue.shift();
          if (item === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          } else if ("error" in item) {
            throw item.error;
          } else {
            yield item;
          }
        }
      })();
    },
    onJob: (job) => seen.push(`${job.id}@${job.version}`),
    onError: (jobIds, error) => failures.push({ jobIds, error }),
  });
  return { watch, opened, seen, failures };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
const job = (id: string, version: bigint) => create(JobSchema, { id, version });

describe("PageWatch", () => {
  it("opens one watch for the jobs added in one turn, and again with all of them when one is added later", async () => {
    const { watch, opened } = recorder();
    watch.add("a");
    watch.add("b");
    watch.add("a");
    await turn();
    expect(opened.map((w) => w.jobIds)).toEqual([["a", "b"]]);
    watch.add("c");
    await turn();
    expect(opened.map((w) => w.jobIds)).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
    ]);
    expect(opened[0]?.signal.aborted).toBe(true);
    expect(opened[1]?.signal.aborted).toBe(false);
  });

  it("passes on the news of followed jobs only, and ends the watch once none is followed", async () => {
    const { watch, opened, seen } = recorder();
    watch.add("a");
    watch.add("b");
    await turn();
    const [open] = opened as [OpenWatch];
    open.send(job("a", 2n));
    await turn();
    watch.forget("a");
    open.send(job("a", 3n));
    open.send(job("b", 2n));
    await turn();
    expect(seen).toEqual(["a@2", "b@2"]);
    // Forgetting a job does not open the watch again: its news is only dropped.
    expect(opened).toHaveLength(1);
    watch.forget("b");
    expect(open.signal.aborted).toBe(true);
  });

  it("tells of a failed watch with the jobs it followed, and follows them no more", async () => {
    const { watch, opened, failures } = recorder();
    watch.add("a");
    watch.add("b");
    await turn();
    watch.forget("b");
    const gone = new JobNotFoundError("job a not found", { jobId: "a" });
    opened[0]?.fail(gone);
    await turn();
    expect(failures).toEqual([{ jobIds: ["a"], error: gone }]);
    expect(watch.has("a")).toBe(false);
    watch.add("a");
    await turn();
    expect(opened.at(-1)?.jobIds).toEqual(["a"]);
  });
});
