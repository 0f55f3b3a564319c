import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

/**
 * The CPU profile of one stretch of a server's life, started and stopped by the runner over IPC:
 * with `BENCH_CPU_PROFILE=<dir>`, `start` and `stop(name)` write `<dir>/<name>.cpuprofile`
 * (100 µs sampling; open it in Chrome's DevTools or speedscope). Without it both do nothing.
 */
export function burstProfiler() {
  const dir = process.env.BENCH_CPU_PROFILE;
  const session = dir === undefined || dir === "" ? undefined : new Session();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => {
      session?.post(method, params ?? {}, (error, result) => (error === null ? resolve(result) : reject(error)));
    });
  return {
    async start(): Promise<void> {
      if (session === undefined) {
        return;
      }
      session.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 100 });
      await post("Profiler.start");
    },
    async stop(value: { name: string }): Promise<string | undefined> {
      if (session === undefined || dir === undefined) {
        return undefined;
      }
      const { profile } = (await post("Profiler.stop")) as { profile: object };
      session.disconnect();
      const file = join(dir, `${value.name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}
