import type { ServerOptions } from "../server/server-options.js";
import { type BenchChild, startChild } from "./child-process.js";

/** The settings a bench passes to buildServer (what JSON can carry). */
export type JobServerSettings = Pick<
  ServerOptions,
  | "shortPollRate"
  | "createRate"
  | "maxHeldWaits"
  | "maxWaitsPerCaller"
  | "maxWaitMs"
  | "leanPath"
  | "maxWatchedJobsPerCaller"
  | "maxStreamsPerConnection"
> & {
  /** Build the server from jobs/dist/server (compiled, as `npm start` runs it) instead of the TypeScript. @default false */
  compiled?: boolean;
  /** Make the memory store in the child, so that its "end" command can end many jobs at one moment. @default false */
  endOnCommand?: boolean;
};

let leanPath = true;

/** `--router`: serve every call through Connect's router (leanPath: false), as before the lean path, for a before/after run. */
export function useRouterOnly(routerOnly: boolean): void {
  leanPath = !routerOnly;
}

/** Starts our server (bench/servers/job-server.ts) as a child process with --expose-gc. */
export function startJobServer(settings: JobServerSettings, nodeFlags: string[] = []): Promise<BenchChild> {
  const args = [JSON.stringify({ leanPath, ...settings })];
  return startChild("bench/servers/job-server.ts", { args, nodeFlags: ["--expose-gc", ...nodeFlags] });
}
