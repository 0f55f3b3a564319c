/**
 * The node flags that profile a server under test when `BENCH_CPU_PROFILE=<dir>` is set: V8
 * writes one .cpuprofile per server process into that folder as the process exits (open it in
 * Chrome's DevTools or speedscope). Empty when the variable is unset.
 */
export function cpuProfileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}
