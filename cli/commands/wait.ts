import type { Command } from "commander";
import type { PollingMode } from "../../client/index.js";
import { type CliContext, openSession } from "../cli-context.js";
import { reportJob } from "../output/report-job.js";
import { waitForEnd } from "../wait-for-end.js";
import { modeOption, timeoutOption } from "./wait-options.js";

interface WaitOptions {
  mode: PollingMode;
  timeout?: number;
}

/** `jobs-cli wait <id> [--mode long|short|stream] [--timeout 60s]` */
export function addWaitCommand(program: Command, context: CliContext): Command {
  return program
    .command("wait")
    .description("wait for a job to end and print it")
    .argument("<id>", "the job's id")
    .addOption(modeOption())
    .addOption(timeoutOption())
    .action(async (id: string, options: WaitOptions, command: Command) => {
      const session = openSession(context, command);
      const ended = await waitForEnd(session, id, {
        mode: options.mode,
        timeoutMs: options.timeout,
      });
      context.exitCode = reportJob(session.output, ended);
    });
}
