import { spawn } from "node:child_process";
import type { JsonValue } from "@bufbuild/protobuf";
import { parseProgressLine } from "./progress-line.js";

/** How much of the end of a command's stderr a failed job keeps as its error message, in characters. */
export const STDERR_TAIL_CHARS = 2_000;
/** How long a command has to end after SIGTERM (a cancel, a lost lease) before it is killed. */
const KILL_GRACE_MS = 5_000;

export interface CommandJobOptions {
  /** The job's input, written to the command's stdin as JSON (nothing for none). */
  input: JsonValue | undefined;
  /** Aborted on a cancel or a lost lease: the command gets SIGTERM, then SIGKILL. */
  signal: AbortSignal;
  /** Told of each `progress ...` line the command writes to stderr. */
  progress: (fraction: number, message: string) => void;
  /** Where the command's other stderr lines go (the worker's own stderr), so nothing is hidden. */
  stderr: NodeJS.WritableStream;
}

/** Thrown when a command ends badly: with a non-zero status, by a signal, or could not start. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
}

/**
 * Runs one job as `command args...`: its input as JSON on stdin; its stdout is the result (the
 * JSON value it prints, else its text, trimmed; nothing printed is no result); a stderr line
 * `progress <0..1 or N%> [message]` reports progress. A non-zero exit rejects with
 * CommandFailedError carrying the end of stderr.
 */
export function runCommandJob(
  command: string,
  args: readonly string[],
  options: CommandJobOptions,
): Promise<JsonValue | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let tail = "";
    let partial = "";
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });

    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      tail = (tail + text).slice(-STDERR_TAIL_CHARS);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const report = parseProgressLine(line);
        if (report === undefined) {
          options.stderr.write(`${line}\n`);
        } else {
          options.progress(report.fraction, report.message);
        }
      }
    });
    // A command that does not read its input closes stdin early: that is its business.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input === undefined ? "" : `${JSON.stringify(options.input)}\n`);

    child.once("error", (error) => {
      finish();
      reject(new CommandFailedError(`${command} could not be started: ${error.message}`, { cause: error }));
    });
    child.once("close", (code, signal) => {
      finish();
      if (code === 0) {
        resolve(resultOf(Buffer.concat(stdout).toString("utf8")));
        return;
      }
      const how = signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
      const said = tail.trim();
      reject(new CommandFailedError(said === "" ? `${command} ${how}` : `${command} ${how}: ${said}`));
    });

    function finish(): void {
      clearTimeout(killTimer);
      options.signal.removeEventListener("abort", onAbort);
    }
  });
}

/** A command's stdout as a result: the JSON value it printed, else its text; nothing is no result. */
function resultOf(text: string): JsonValue | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return undefined;
  }
  try {
    return JSON.parse(trimmed) as JsonValue;
  } catch {
    return trimmed;
  }
}
