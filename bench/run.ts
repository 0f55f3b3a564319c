// The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (under 2 minutes).
// Every server under test and every load generator is a child process of this one, on
// 127.0.0.1; all are killed when the run ends, fails, is interrupted or runs out of time.
import { performance } from "node:perf_hooks";
import { benchOptions } from "./bench-options.js";
import { killChildren } from "./child-process.js";
import type { Figure } from "./figure.js";
import { machineInfo } from "./machine-info.js";
import { writeReport } from "./report.js";
import { benchAwaitCompletion } from "./sections/await-completion.js";
import { benchHeldWaits } from "./sections/held-waits.js";
import { benchRedisWake } from "./sections/redis-wake.js";
import { benchUnary } from "./sections/unary.js";
import { benchWatchMany } from "./sections/watch-many.js";
import { benchWorkerPath } from "./sections/worker-path.js";
import { useRouterOnly } from "./start-job-server.js";

const options = benchOptions(process.argv.slice(2));
useRouterOnly(options.router);
const started = performance.now();

process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    killChildren();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`\nbench: over its time limit of ${options.timeLimitMs / 1000} s; killing every child and giving up`);
  killChildren();
  process.exit(1);
}, options.timeLimitMs);

const sections: Array<[string, (notes: string[]) => Promise<{ figures: Figure[]; raw: unknown }>]> = [
  ["unary", (notes) => benchUnary(options.unary, notes)],
  ["held-waits", (notes) => benchHeldWaits(options.heldWaits, notes)],
  ["watch-many", (notes) => benchWatchMany(options.watchMany, notes)],
  ["await-completion", (notes) => benchAwaitCompletion(options.awaitCompletion, notes)],
  ["redis", (notes) => benchRedisWake(options.redis, notes)],
  ["worker-path", (notes) => benchWorkerPath(options.workerPath, notes)],
];

const figures: Figure[] = [];
const raw: Record<string, unknown> = {};
const notes: string[] = options.router
  ? ["--router: the servers buildServer made answered every call through Connect's router (no lean path)"]
  : [];
let failed = false;
for (const [name, run] of sections) {
  if (!options.only.has(name)) {
    continue;
  }
  const sectionStart = performance.now();
  process.stderr.write(`bench: ${name}...`);
  try {
    const result = await run(notes);
    figures.push(...result.figures);
    raw[name] = result.raw;
  } catch (error) {
    failed = true;
    notes.push(`${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    killChildren();
  }
  process.stderr.write(` ${((performance.now() - sectionStart) / 1000).toFixed(1)} s\n`);
}

writeReport({
  machine: machineInfo(),
  mode: options.quick ? "quick" : "full",
  options: { ...options, only: [...options.only] },
  figures,
  raw,
  notes,
  durationS: (performance.now() - started) / 1000,
});
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
