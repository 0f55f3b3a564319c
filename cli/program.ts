import { Command, CommanderError } from "commander";
import { type CliContext, createContext } from "./cli-context.js";
import { addCancelCommand } from "./commands/cancel.js";
import { addCreateCommand } from "./commands/create.js";
import { addListCommand } from "./commands/list.js";
import { addStatusCommand } from "./commands/status.js";
import { addWaitCommand } from "./commands/wait.js";
import { addWatchCommand } from "./commands/watch.js";
import { addWorkCommand } from "./commands/work.js";
import { type ExitCode, exitCodeForCommander } from "./exit-codes.js";
import { addGlobalOptions, readGlobalOptions } from "./global-options.js";
import { idCommandsOf, protectJobIds, valueFlagsOf } from "./job-id-operands.js";
import { packageVersion } from "./package-version.js";
import { PROGRAM_NAME } from "./program-name.js";

const helpAfter = `
Durations are a number and a unit: 500ms, 5s, 1.5m, 1h.

Exit status:
  0  the job completed (every job, for wait with several ids), or the command did what
     it was asked
  1  the job (any job, for wait) ended in ERROR or CANCELLED (its error message is
     printed), or the server refused it: not found, already ended (cancel), request id reused
  2  usage error: a bad option, duration or mode, or an argument the server calls
     invalid (a malformed job id)
  3  --timeout ran out before the job ended (every job, for wait)
  4  the server could not be reached or refused the caller: network failure,
     unauthenticated, permission denied, rate limited or failing after --retries
  130  interrupted (Ctrl-C)

Examples:
  ${PROGRAM_NAME} create --duration 5s --wait
  ${PROGRAM_NAME} --json create --duration 2s --error
  ${PROGRAM_NAME} wait <id> --mode stream --timeout 1m
  ${PROGRAM_NAME} wait <id> <id> <id> --timeout 5m
  ${PROGRAM_NAME} list --state pending
  ${PROGRAM_NAME} work --kind echo -- cat
  ${PROGRAM_NAME} create --kind echo --input '{"hello":"world"}' --wait`;

// Startup time (issue 11): `--version` and `--help` must answer without loading the client
// library (@bufbuild/protobuf, @connectrpc/*, gen/) or cli-progress, which cost most of the
// CLI's start. So nothing imported here or by the command definitions loads them: each action
// imports its work (actions/) when it runs, the error mapping below is imported on an error,
// and the defaults and choices --help shows are written out, kept in step by their types.

/**
 * The `jobs-cli` program: global options and one subcommand per JobService call. Commander's
 * errors are thrown (exitOverride), not exits, so the caller decides the exit status.
 */
export function buildProgram(context: CliContext): Command {
  const program = new Command(PROGRAM_NAME)
    .description("Start jobs on a job service and wait for them.")
    .version(packageVersion(), "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, `${PROGRAM_NAME}: `)),
    })
    .showSuggestionAfterError(false)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText("after", helpAfter);
  addGlobalOptions(program);
  for (const add of [
    addCreateCommand,
    addStatusCommand,
    addWaitCommand,
    addWatchCommand,
    addListCommand,
    addCancelCommand,
    addWorkCommand,
  ]) {
    add(program, context);
  }
  return program;
}

/**
 * Runs the CLI on `args` (without "node" and the script) and resolves with its exit status.
 * Every failure is one line on stderr; commander prints its own usage errors.
 */
export async function runCli(args: readonly string[], io: Omit<CliContext, "exitCode">): Promise<ExitCode> {
  const context = createContext(io);
  const program = buildProgram(context);
  try {
    const operands = { valueFlags: valueFlagsOf(program), idCommands: idCommandsOf(program) };
    await program.parseAsync(protectJobIds(args, operands), { from: "user" });
    return context.exitCode;
  } catch (error) {
    // Commander has printed its own message (or the help) by the time it throws.
    if (error instanceof CommanderError) {
      return exitCodeForCommander(error);
    }
    // Any other error comes from an action, which has loaded the client library already.
    const [{ exitCodeForError }, { errorLine }] = await Promise.all([
      import("./exit-code-for-error.js"),
      import("./output/error-line.js"),
    ]);
    context.stderr.write(`${PROGRAM_NAME}: ${errorLine(error, { url: readGlobalOptions(program).url })}\n`);
    return exitCodeForError(error);
  }
}
