import type { Command } from "commander";
import type { StatusOptions } from "../actions/status.js";
import { durationArgument } from "../arguments.js";
import type { CliContext } from "../cli-context.js";

/** `jobs-cli status <id> [--wait 20s]` */
export function addStatusCommand(program: Command, context: CliContext): Command {
  return program
    .command("status")
    .description("print a job; with --wait, wait up to that long for its next change first")
    .argument("<id>", "the job's id")
    .option("--wait <duration>", "wait up to this long for the job to change (a long wait)", durationArgument)
    .action(async (id: string, options: StatusOptions, command: Command) => {
      const { runStatus } = await import("../actions/status.js");
      await runStatus(context, id, options, command);
    });
}
