import { type Command, Option } from "commander";
import type { PollingMode } from "../../client/index.js";
import { durationArgument } from "../arguments.js";
import { type CliContext, openSession } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { reportJob } from "../output/report-job.js";
import { waitForEnd } from "../wait-for-end.js";
import { modeOption, timeoutOption } from "./wait-options.js";

interface CreateOptions {
  duration: number;
  error: boolean;
  requestId?: string;
  wait: boolean;
  mode: PollingMode;
  timeout?: number;
}

/** `jobs-cli create --duration 5s [--error] [--request-id ID] [--wait [--mode M] [--timeout T]]` */
export function addCreateCommand(program: Command, context: CliContext): Command {
  return (
    program
      .command("create")
      .description("start a job; with --wait, wait for it to end")
      .addOption(
        new Option("--duration <duration>", "how long the job takes: 500ms, 5s, 1.5m, 1h")
          .argParser(durationArgument)
          .makeOptionMandatory(),
      )
      .option("--error", "make the job end in ERROR", false)
      .option("--request-id <uuid>", "idempotency key: creating again with it returns the same job (default: a new UUID)")
      .option("--wait", "wait for the job to end and print it (implied by --mode and --timeout)", false)
      // Asking how to wait, or for how long, asks to wait.
      .addOption(modeOption().implies({ wait: true }))
      .addOption(timeoutOption().implies({ wait: true }))
      .action(async (options: CreateOptions, command: Command) => {
        const session = openSession(context, command);
        const job = await session.client.createJob(
          { processingDurationMs: options.duration, shouldError: options.error, requestId: options.requestId },
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
      })
  );
}
