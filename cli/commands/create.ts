import { type Command, Option } from "commander";
import type { CreateOptions } from "../actions/create.js";
import { durationArgument } from "../arguments.js";
import type { CliContext } from "../cli-context.js";
import { modeOption, timeoutOption } from "./wait-options.js";

/** `jobs-cli create --duration 5s [--error] [--request-id ID] [--wait [--mode M] [--timeout T]]` */
export function addCreateCommand(program: Command, context: CliContext): Command {
  return (
    program
      .command("create")
      .description("start a job; with --wait, wait for it to end")
      .addOption(
        new Option("--duration <duration>", "how long the job takes: 500ms, 5s, 1.5m, 1h")
          .argParser(durationArgument)
          .makeOptionMandatory(),
      )
      .option("--error", "make the job end in ERROR", false)
      .option("--request-id <uuid>", "idempotency key: creating again with it returns the same job (default: a new UUID)")
      .option("--wait", "wait for the job to end and print it (implied by --mode and --timeout)", false)
      // Asking how to wait, or for how long, asks to wait.
      .addOption(modeOption().implies({ wait: true }))
      .addOption(timeoutOption().implies({ wait: true }))
      .action(async (options: CreateOptions, command: Command) => {
        const { runCreate } = await import("../actions/create.js");
        await runCreate(context, options, command);
      })
  );
}
