import type { Command } from "commander";
import { JobClient } from "../client/index.js";
import type { CliContext } from "./cli-context.js";
import { readGlobalOptions } from "./global-options.js";
import { createManyProgress, type ManyProgressReporter } from "./output/many-progress.js";
import { createOutput, type Output } from "./output/output.js";
import { createProgress, type ProgressReporter } from "./output/progress.js";

/** What a command works with, built from the global options. */
export interface Session {
  client: JobClient;
  output: Output;
  signal: AbortSignal;
  url: string;
  /** A progress reporter for one wait: a live bar on a terminal (not with --json), else plain lines. */
  progress(): ProgressReporter;
  /** A progress reporter for a wait for several jobs: a summary bar on a terminal, else plain lines. */
  progressMany(jobIds: readonly string[]): ManyProgressReporter;
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
    progressMany: (jobIds) => createManyProgress({ stream: context.stderr, live, jobIds }),
  };
}
