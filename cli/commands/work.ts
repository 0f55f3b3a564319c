import { type Command, Option } from "commander";
import type { WorkOptions } from "../actions/work.js";
import { durationArgument, integerArgument } from "../arguments.js";
import type { CliContext } from "../cli-context.js";

/** `jobs-cli work --kind NAME [--kind NAME...] [--concurrency N] [--lease 30s] -- COMMAND [ARGS...]` */
export function addWorkCommand(program: Command, context: CliContext): Command {
  return program
    .command("work")
    .description("do jobs of a kind by running COMMAND for each: input as JSON on stdin, stdout as the result")
    .argument("<command...>", "the program to run for each job, and its arguments (put -- before it)")
    .addOption(
      new Option("--kind <name>", "a kind of job to do (repeat for several)")
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
        .makeOptionMandatory(),
    )
    .addOption(new Option("--concurrency <n>", "jobs run at once").default(1).argParser(integerArgument(1)))
    .addOption(
      new Option("--lease <duration>", "each job's lease, kept alive by heartbeats (default: the server's, 30s)").argParser(
        durationArgument,
      ),
    )
    .addHelpText(
      "after",
      `
Each job runs COMMAND with the job's input as JSON on stdin. What it prints on stdout is the
result (JSON, else text). A non-zero exit fails the job with the end of its stderr. A stderr
line "progress <0..1 or N%> [message]" reports progress; other stderr lines are passed through.
Ctrl-C or SIGTERM stops claiming and lets the running commands finish; a second Ctrl-C quits.

Example:
  jobs-cli work --kind echo -- cat`,
    )
    .action(async (commandLine: string[], options: WorkOptions, command: Command) => {
      const { runWork } = await import("../actions/work.js");
      await runWork(context, commandLine, options, command);
    });
}
