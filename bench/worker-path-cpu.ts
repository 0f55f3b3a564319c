// The worker path's CPU per job, in longer runs than the suite's (which time the JIT's warm-up
// too): our compiled server on memory or Redis, the suite's load process (16 callers, JobClient
// LONG, Connect JSON over h2c) with N worker loops, one warm-up run of 300 jobs, then rounds of
// `jobs`, each printing jobs/s, the server's and the load's CPU per job (from /proc), and the
// create -> resolved p50/p99. What each server change of issue 13 was measured with, before and
// after, on the same machine minutes apart (the last round is the warm one).
//
//   npx tsx bench/worker-path-cpu.ts redis 4 2000 3      # store, workers, jobs per round, rounds
//   BENCH_CPU_PROFILE=/tmp/prof npx tsx bench/worker-path-cpu.ts redis   # and the server's CPU profile
import { deleteKeys } from "../test/support/redis.js";
import { spawnServer } from "../test/support/spawn-server.js";
import { startChild } from "./child-process.js";
import { cpuProfileFlags } from "./cpu-profile-flags.js";
import type { ThroughputResult, ThroughputRun } from "./load/worker-path-load.js";
import { cpuTimeUs } from "./proc-stats.js";
import { workerPathServerEnv } from "./sections/worker-path.js";

const [store = "memory", workers = "4", jobs = "2000", rounds = "3"] = process.argv.slice(2);
if (store !== "memory" && store !== "redis") {
  throw new Error(`usage: worker-path-cpu.ts memory|redis [workers] [jobs] [rounds], not ${store}`);
}
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const { env, prefix } = workerPathServerEnv(store, redisUrl);
const server = await spawnServer(env, cpuProfileFlags());
const load = await startChild("bench/load/worker-path-load.ts");
try {
  const serverPid = server.child.pid as number;
  const run: ThroughputRun = {
    url: server.url,
    variant: "worker",
    kind: "bench.echo",
    workers: Number(workers),
    callers: 16,
    jobs: 300,
  };
  await load.request<ThroughputResult>("throughput", run, 300_000);
  for (let round = 1; round <= Number(rounds); round++) {
    const [server0, load0] = [cpuTimeUs(serverPid), cpuTimeUs(load.pid)];
    const result = await load.request<ThroughputResult>("throughput", { ...run, jobs: Number(jobs) }, 300_000);
    const perJob = (from: number, pid: number): string => ((cpuTimeUs(pid) - from) / result.jobs).toFixed(0);
    console.log(
      `${store} x${workers}, round ${round}: ${result.jobsPerS.toFixed(0)} jobs/s, server ${perJob(server0, serverPid)} µs/job, load ${perJob(load0, load.pid)} µs/job, calls/job ${result.callsPerJob.toFixed(2)}, create -> resolved p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms${result.failures.length > 0 ? `, ${result.failures.length} failures: ${result.failures[0]}` : ""}`,
    );
  }
} finally {
  await load.stop();
  await server.stop();
  if (store === "redis") {
    await deleteKeys(redisUrl, prefix);
  }
}
