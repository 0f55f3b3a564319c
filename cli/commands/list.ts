import { type Command, Option } from "commander";
import type { ListOptions } from "../actions/list.js";
import { integerArgument } from "../arguments.js";
import type { CliContext } from "../cli-context.js";
import { LIST_STATES } from "./list-states.js";

/** `jobs-cli list [--state S] [--page-size N] [--page-token T]`: one line per job, newest first. */
export function addListCommand(program: Command, context: CliContext): Command {
  return program
    .command("list")
    .description("print one page of jobs, newest first")
    .addOption(new Option("--state <state>", "only jobs in this state").choices(Object.keys(LIST_STATES)))
    .option("--page-size <n>", "jobs per page (default: the server's, 50)", integerArgument(1))
    .option("--page-token <token>", "the page to print, as the previous page named it")
    .action(async (options: ListOptions, command: Command) => {
      const { runList } = await import("../actions/list.js");
      await runList(context, options, command);
    });
}
