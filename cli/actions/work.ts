import type { Command } from "commander";
import { JobWorker, jobInput, NonRetryableError } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { readGlobalOptions } from "../global-options.js";
import { CommandFailedError, runCommandJob } from "../work/command-job.js";

export interface WorkOptions {
  kind: string[];
  concurrency: number;
  lease?: number;
}

/**
 * What `jobs-cli work` does: a JobWorker whose handler runs the command for each job, until
 * Ctrl-C or SIGTERM, which stops claiming and lets the running commands finish.
 */
export async function runWork(context: CliContext, commandLine: string[], options: WorkOptions, command: Command): Promise<void> {
  const globals = readGlobalOptions(command);
  const [program, ...args] = commandLine as [string, ...string[]];
  const say = (line: string): void => {
    context.stderr.write(`${line}\n`);
  };
  const worker = new JobWorker({
    baseUrl: globals.url,
    apiKey: globals.apiKey,
    maxRetries: globals.retries,
    kinds: options.kind,
    concurrency: options.concurrency,
    leaseMs: options.lease,
    workerId: `jobs-cli ${program}`,
    handler: async (job, { signal, progress, attempt }) => {
      say(`job ${job.id}: started (${job.kind}, attempt ${attempt})`);
      try {
        const result = await runCommandJob(program, args, { input: jobInput(job), signal, progress, stderr: context.stderr });
        say(`job ${job.id}: completed`);
        return result;
      } catch (error) {
        say(
          signal.aborted ? `job ${job.id}: stopped (${reasonOf(signal)})` : `job ${job.id}: failed: ${(error as Error).message}`,
        );
        // The command said it failed: another attempt would run it the same way.
        throw error instanceof CommandFailedError ? new NonRetryableError(error.message, { cause: error }) : error;
      }
    },
  });
  const stop = (): void => {
    say("stopping: claiming no more jobs, finishing the running ones (Ctrl-C again to quit now)");
    void worker.stop();
  };
  context.signal.addEventListener("abort", stop, { once: true });
  say(`working on ${options.kind.join(", ")} at ${globals.url}, ${options.concurrency} at a time: ${commandLine.join(" ")}`);
  try {
    await worker.start();
  } finally {
    context.signal.removeEventListener("abort", stop);
  }
  context.exitCode = EXIT_CODES.OK;
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : "aborted";
}
