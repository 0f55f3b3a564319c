import { POLLING_MODES } from "../../client/index.js";
import type { BenchOptions } from "../bench-options.js";
import { startChild } from "../child-process.js";
import { type Figure, spreadOf } from "../figure.js";
import type { FollowedJob } from "../load/await-completion-load.js";
import { startJobServer } from "../start-job-server.js";
import { summarize } from "../stats.js";

/**
 * JobClient.awaitCompletion in each mode, and createAndAwait, end to end: delay after the job's
 * end, and requests per job.
 */
export async function benchAwaitCompletion(options: BenchOptions["awaitCompletion"], notes: string[]) {
  const server = await startJobServer({ shortPollRate: 0, createRate: 0 });
  const load = await startChild("bench/load/await-completion-load.ts").catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  try {
    const modes = [POLLING_MODES.LONG, POLLING_MODES.SHORT, POLLING_MODES.STREAM];
    const jobs = await load.request<FollowedJob[]>(
      "run",
      { url: server.ready.url, modes, durationsMs: options.durationsMs, pollIntervalMs: options.pollIntervalMs },
      Math.max(...options.durationsMs) + 60_000,
    );
    const followed: FollowedJob["mode"][] = [...modes, "createAndAwait"];
    const figures: Figure[] = followed.flatMap((mode) => {
      const ofMode = jobs.filter((job) => job.mode === mode);
      const label =
        mode === POLLING_MODES.SHORT
          ? `SHORT (poll every ${options.pollIntervalMs} ms)`
          : mode === "createAndAwait"
            ? "createAndAwait (LONG, the create counted)"
            : mode.toUpperCase();
      const requests = summarize(ofMode.map((job) => job.requests));
      return [
        {
          section: "awaitCompletion",
          name: `${label}: delay after the job's end`,
          unit: "ms",
          ours: spreadOf(summarize(ofMode.map((job) => job.delayMs))),
        },
        {
          section: "awaitCompletion",
          name: `${label}: requests per job (mean; max ${requests.max})`,
          unit: "req/job",
          ours: requests.mean,
        },
      ];
    });
    const ranges = `${Math.min(...options.durationsMs)}-${Math.max(...options.durationsMs)} ms`;
    notes.push(`awaitCompletion: ${options.durationsMs.length} jobs per mode of ${ranges}, followed at once`);
    return { figures, raw: { jobs } };
  } finally {
    await load.stop();
    await server.stop();
  }
}
