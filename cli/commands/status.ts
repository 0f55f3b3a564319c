import type { Command } from "commander";
import { durationArgument } from "../arguments.js";
import { type CliContext, openSession } from "../cli-context.js";
import { reportJob } from "../output/report-job.js";
import { waitForChange } from "../wait-for-change.js";

interface StatusOptions {
  wait?: number;
}

/** `jobs-cli status <id> [--wait 20s]` */
export function addStatusCommand(program: Command, context: CliContext): Command {
  return program
    .command("status")
    .description("print a job; with --wait, wait up to that long for its next change first")
    .argument("<id>", "the job's id")
    .option("--wait <duration>", "wait up to this long for the job to change (a long wait)", durationArgument)
    .action(async (id: string, options: StatusOptions, command: Command) => {
      const session = openSession(context, command);
      const { job } = await session.client.getStatus(id, { signal: session.signal });
      const shown = await waitForChange(session, job, options.wait ?? 0);
      context.exitCode = reportJob(session.output, shown);
    });
}
