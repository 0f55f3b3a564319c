import type { Command } from "commander";
import { type CliContext, openSession } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";

/** `jobs-cli cancel <id>`: prints the job, now CANCELLED. */
export function addCancelCommand(program: Command, context: CliContext): Command {
  return program
    .command("cancel")
    .description("cancel a pending job and print it (an ended job cannot be cancelled: exit status 1)")
    .argument("<id>", "the job's id")
    .action(async (id: string, _options: unknown, command: Command) => {
      const session = openSession(context, command);
      session.output.job(await session.client.cancelJob(id, { signal: session.signal }));
      context.exitCode = EXIT_CODES.OK;
    });
}
