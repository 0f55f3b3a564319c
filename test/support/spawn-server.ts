import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The compiled server, as `npm start` and the `jobs-server` bin run it (built by `npm run build`). */
const SERVER_MAIN = fileURLToPath(new URL("../../jobs/dist/server/main.js", import.meta.url));

export interface ServerProcess {
  /** Such as http://127.0.0.1:41234 */
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `npm start`'s server (jobs/dist/server/main.js, compiled: `npm test` builds it first) as its
 * own process on a free port, with `env` added to this process's environment, and resolves once
 * it listens. `nodeFlags` go to node before the script (a benchmark's --cpu-prof).
 */
export async function spawnServer(env: Record<string, string>, nodeFlags: readonly string[] = []): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} is not built: run \`npm run build\` (npm test does) first`);
  }
  return spawnListening(process.execPath, [...nodeFlags, SERVER_MAIN], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
  });
}

/**
 * Runs `command` (a server that logs Fastify's "Server listening at <url>") as its own process
 * and resolves once it listens; rejects with all it printed if it exits or stays silent 20 s.
 */
export async function spawnListening(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<ServerProcess> {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match !== null) {
        resolve(match[1] as string);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    void exited.then((code) => reject(new Error(`${command} exited (${String(code)}) before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`${command} did not listen within 20 s:\n${output}`)), 20_000).unref();
  });
  return {
    url,
    child,
    exited,
    output: () => output,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}
