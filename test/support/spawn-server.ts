import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The compiled server, as `npm start` and the `jobs-server` bin run it (built by `npm run build`). */
const SERVER_MAIN = fileURLToPath(new URL("../../dist/server/main.js", import.meta.url));

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
 * Starts `npm start`'s server (dist/server/main.js, compiled: `npm test` builds it first) as its
 * own process on a free port, with `env` added to this process's environment, and resolves once
 * it listens.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} is not built: run \`npm run build\` (npm test does) first`);
  }
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
    void exited.then((code) => reject(new Error(`the server exited (${String(code)}) before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`the server did not listen within 20 s:\n${output}`)), 20_000).unref();
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
