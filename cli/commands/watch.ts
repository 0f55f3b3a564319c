import type { Command } from "commander";
import type { Job } from "../../client/index.js";
import { type CliContext, openSession } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { reportEnd } from "../output/report-job.js";
import { timeoutOption } from "./wait-options.js";

interface WatchOptions {
  timeout?: number;
}

/** `jobs-cli watch <id> [--timeout 60s]`: one line per change, as it happens, until the job ends. */
export function addWatchCommand(program: Command, context: CliContext): Command {
  return program
    .command("watch")
    .description("print the job, then each change as it happens, until it ends")
    .argument("<id>", "the job's id")
    .addOption(timeoutOption())
    .action(async (id: string, options: WatchOptions, command: Command) => {
      const session = openSession(context, command);
      let last: Job | undefined;
      for await (const job of session.client.watch(id, { timeoutMs: options.timeout, signal: session.signal })) {
        session.output.job(job);
        last = job;
      }
      context.exitCode = last === undefined ? EXIT_CODES.OK : reportEnd(session.output, last);
    });
}
