import type { Command } from "commander";
import type { CliContext } from "../cli-context.js";

/** `jobs-cli cancel <id>`: prints the job, now CANCELLED. */
export function addCancelCommand(program: Command, context: CliContext): Command {
  return program
    .command("cancel")
    .description("cancel a pending job and print it (an ended job cannot be cancelled: exit status 1)")
    .argument("<id>", "the job's id")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { runCancel } = await import("../actions/cancel.js");
      await runCancel(context, id, command);
    });
}
