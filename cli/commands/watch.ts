import type { Command } from "commander";
import type { WatchOptions } from "../actions/watch.js";
import type { CliContext } from "../cli-context.js";
import { timeoutOption } from "./wait-options.js";

/** `jobs-cli watch <id> [--timeout 60s]`: one line per change, as it happens, until the job ends. */
export function addWatchCommand(program: Command, context: CliContext): Command {
  return program
    .command("watch")
    .description("print the job, then each change as it happens, until it ends")
    .argument("<id>", "the job's id")
    .addOption(timeoutOption())
    .action(async (id: string, options: WatchOptions, command: Command) => {
      const { runWatch } = await import("../actions/watch.js");
      await runWatch(context, id, options, command);
    });
}
