import type { Command } from "commander";
import type { WaitOptions } from "../actions/wait.js";
import type { CliContext } from "../cli-context.js";
import { timeoutOption, waitModeOption } from "./wait-options.js";

/** `jobs-cli wait <id...> [--mode long|short|stream] [--timeout 60s]` */
export function addWaitCommand(program: Command, context: CliContext): Command {
  return program
    .command("wait")
    .description("wait for jobs to end and print each as it ends")
    .argument("<id...>", "the jobs' ids")
    .addOption(waitModeOption())
    .addOption(timeoutOption())
    .action(async (ids: string[], options: WaitOptions, command: Command) => {
      const [id, ...more] = ids;
      if (id !== undefined && more.length === 0) {
        const { runWait } = await import("../actions/wait.js");
        await runWait(context, id, options, command);
      } else {
        const { runWaitMany } = await import("../actions/wait-many.js");
        await runWaitMany(context, ids, options, command);
      }
    });
}
