import type { Command } from "commander";
import { JobWorker, jobInput, type Logger, NonRetryableError } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { readGlobalOptions } from "../global-options.js";
import { PROGRAM_NAME } from "../program-name.js";
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
    logger: workerLog(say),
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
        // Whether the server takes the result is the worker's to say (below, if it does not).
        say(`job ${job.id}: command succeeded, sending its result`);
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

/** How often one kind of warning (a claim retried while the server is away) is repeated, in ms. */
const REPEAT_WARNING_MS = 10_000;

/**
 * The worker's log on stderr, as `jobs-cli: ...` lines: its warnings (claims retried while the
 * server is away or refusing) once per kind every REPEAT_WARNING_MS, its errors (a report the
 * server refused) each time.
 */
function workerLog(say: (line: string) => void): Logger {
  const lastSaid = new Map<string, number>();
  const line = (fields: Record<string, unknown>, message: string): string => {
    const detail = [fields.code, fields.error].filter((part) => part !== undefined && part !== "Unknown").join(": ");
    return `${PROGRAM_NAME}: ${message}${detail === "" ? "" : ` (${detail})`}`;
  };
  return {
    warn(fields, message) {
      const now = Date.now();
      if (now - (lastSaid.get(message) ?? -Infinity) >= REPEAT_WARNING_MS) {
        lastSaid.set(message, now);
        say(line(fields, message));
      }
    },
    error(fields, message) {
      say(line(fields, message));
    },
  };
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : "aborted";
}
