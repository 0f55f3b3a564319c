import { type Command, Option } from "commander";
import type { CreateOptions } from "../actions/create.js";
import { durationArgument, integerArgument, jsonArgument } from "../arguments.js";
import type { CliContext } from "../cli-context.js";
import { modeOption, timeoutOption } from "./wait-options.js";

/**
 * `jobs-cli create --duration 5s [--error] [--request-id ID] [--wait [--mode M] [--timeout T]]`, or
 * `jobs-cli create --kind NAME [--input JSON] [--max-attempts N] ...` for a job a worker does.
 */
export function addCreateCommand(program: Command, context: CliContext): Command {
  return (
    program
      .command("create")
      .description("start a job (simulated, or of a kind for a worker); with --wait, wait for it to end")
      .addOption(
        new Option("--duration <duration>", "a simulated job: how long it takes: 500ms, 5s, 1.5m, 1h").argParser(
          durationArgument,
        ),
      )
      .option("--error", "a simulated job: make it end in ERROR", false)
      .addOption(new Option("--kind <name>", "a job of this kind, done by a worker (jobs-cli work), instead of --duration"))
      .addOption(new Option("--input <json>", "with --kind: the job's input, a JSON value").argParser(jsonArgument))
      .addOption(
        new Option(
          "--max-attempts <n>",
          "with --kind: attempts before the job ends in ERROR (default: the server's, 3)",
        ).argParser(integerArgument(1)),
      )
      .option("--request-id <uuid>", "idempotency key: creating again with it returns the same job (default: a new UUID)")
      .option("--wait", "wait for the job to end and print it (implied by --mode and --timeout)", false)
      // Asking how to wait, or for how long, asks to wait.
      .addOption(modeOption().implies({ wait: true }))
      .addOption(timeoutOption().implies({ wait: true }))
      .action(async (options: CreateOptions, command: Command) => {
        const problem =
          (options.duration === undefined) === (options.kind === undefined)
            ? "give either --duration (a simulated job) or --kind (a job for a worker)"
            : options.kind !== undefined && options.error
              ? "--error is for simulated jobs (--duration); a worker decides how a job of a kind ends"
              : options.kind === undefined && (options.input !== undefined || options.maxAttempts !== undefined)
                ? "--input and --max-attempts need --kind"
                : undefined;
        if (problem !== undefined) {
          command.error(`error: ${problem}`, { code: "jobs.usage" });
        }
        const { runCreate } = await import("../actions/create.js");
        await runCreate(context, options, command);
      })
  );
}
