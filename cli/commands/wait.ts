import type { Command } from "commander";
import type { WaitOptions } from "../actions/wait.js";
import type { CliContext } from "../cli-context.js";
import { modeOption, timeoutOption } from "./wait-options.js";

/** `jobs-cli wait <id> [--mode long|short|stream] [--timeout 60s]` */
export function addWaitCommand(program: Command, context: CliContext): Command {
  return program
    .command("wait")
    .description("wait for a job to end and print it")
    .argument("<id>", "the job's id")
    .addOption(modeOption())
    .addOption(timeoutOption())
    .action(async (id: string, options: WaitOptions, command: Command) => {
      const { runWait } = await import("../actions/wait.js");
      await runWait(context, id, options, command);
    });
}
