import { randomBytes } from "node:crypto";
import { deleteKeys } from "../../test/support/redis.js";
import { type ServerProcess, spawnServer } from "../../test/support/spawn-server.js";
import type { BenchOptions } from "../bench-options.js";
import { startChild, trackProcess } from "../child-process.js";
import { type Figure, spreadOf } from "../figure.js";
import { redisAnswers } from "../redis-answers.js";
import { summarize } from "../stats.js";

/**
 * Two server processes on one Redis: create on A, long wait on B; the delay from the job's end
 * (updateTime) to B's answer. Skipped, with a note, when no Redis answers.
 */
export async function benchRedisWake(options: BenchOptions["redis"], notes: string[]) {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (!(await redisAnswers(url))) {
    notes.push(`redis: SKIPPED, no Redis answers at ${url} (set REDIS_URL)`);
    return { figures: [], raw: { skipped: true } };
  }
  const prefix = `bench:${randomBytes(6).toString("hex")}:`;
  const env = {
    HOST: "127.0.0.1",
    JOB_STORE: "redis",
    REDIS_URL: url,
    REDIS_PREFIX: prefix,
    SHORT_POLL_RATE: "0",
    CREATE_RATE: "0",
  };
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      servers.push(await spawnServer(env));
      trackProcess((servers[i] as ServerProcess).child);
    }
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const load = await startChild("bench/load/redis-wake-load.ts");
    try {
      const result = await load.request<{ delaysMs: number[]; notCompleted: number }>(
        "run",
        { urlA: a.url, urlB: b.url, durationsMs: options.durationsMs },
        Math.max(...options.durationsMs) + 60_000,
      );
      if (result.notCompleted > 0) {
        notes.push(`redis: ${result.notCompleted} long waits on B did not answer with the COMPLETED job`);
      }
      const figure: Figure = {
        section: "redis",
        name: `create on A, long wait on B (${options.durationsMs.length} jobs): delay after the job's end`,
        unit: "ms",
        ours: spreadOf(summarize(result.delaysMs)),
      };
      return { figures: [figure], raw: result };
    } finally {
      await load.stop();
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await deleteKeys(url, prefix);
  }
}
