import type { Command } from "commander";
import type { JsonValue, PollingMode } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { reportJob } from "../output/report-job.js";
import { openSession } from "../session.js";
import { waitForEnd } from "../wait-for-end.js";

export interface CreateOptions {
  /** A simulated job's duration; undefined with --kind. */
  duration?: number;
  error: boolean;
  kind?: string;
  input?: JsonValue;
  maxAttempts?: number;
  requestId?: string;
  wait: boolean;
  mode: PollingMode;
  timeout?: number;
}

/** What `jobs-cli create` does: starts the job, prints it and, with --wait, waits for its end. */
export async function runCreate(context: CliContext, options: CreateOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  const job = await session.client.createJob(
    options.kind === undefined
      ? { processingDurationMs: options.duration, shouldError: options.error, requestId: options.requestId }
      : { kind: options.kind, input: options.input, maxAttempts: options.maxAttempts, requestId: options.requestId },
    { signal: session.signal },
  );
  session.output.job(job);
  if (!options.wait) {
    context.exitCode = EXIT_CODES.OK;
    return;
  }
  const ended = await waitForEnd(session, job.id, {
    mode: options.mode,
    timeoutMs: options.timeout,
    known: job,
  });
  context.exitCode = reportJob(session.output, ended);
}
