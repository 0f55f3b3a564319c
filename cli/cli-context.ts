import type { Command } from "commander";
import { JobClient } from "../client/index.js";
import { EXIT_CODES, type ExitCode } from "./exit-codes.js";
import { readGlobalOptions } from "./global-options.js";
import { createOutput, type LineSink, type Output } from "./output/output.js";
import { createProgress, type ProgressReporter } from "./output/progress.js";

/** What a run of the CLI is given, and where a command leaves its exit status. */
export interface CliContext {
  stdout: LineSink;
  stderr: LineSink & NodeJS.WritableStream;
  /** Aborted on Ctrl-C: every call and wait takes it. */
  signal: AbortSignal;
  /** Set by the command that ran; an error thrown instead decides it from the error. */
  exitCode: ExitCode;
}

/** What a command works with, built from the global options. */
export interface Session {
  client: JobClient;
  output: Output;
  signal: AbortSignal;
  url: string;
  /** A progress reporter for one wait: a live bar on a terminal (not with --json), else plain lines. */
  progress(): ProgressReporter;
}

export function createContext(io: Omit<CliContext, "exitCode">): CliContext {
  return { ...io, exitCode: EXIT_CODES.OK };
}

export function openSession(context: CliContext, command: Command): Session {
  const options = readGlobalOptions(command);
  const client = new JobClient({ baseUrl: options.url, apiKey: options.apiKey, maxRetries: options.retries });
  const output = createOutput({ json: options.json, stdout: context.stdout, stderr: context.stderr });
  const live = context.stderr.isTTY === true && !options.json;
  return {
    client,
    output,
    signal: context.signal,
    url: options.url,
    progress: () => createProgress({ stream: context.stderr, live }),
  };
}
