import type { Command } from "commander";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { openSession } from "../session.js";

/** What `jobs-cli cancel` does: cancels the job and prints it, now CANCELLED. */
export async function runCancel(context: CliContext, id: string, command: Command): Promise<void> {
  const session = openSession(context, command);
  session.output.job(await session.client.cancelJob(id, { signal: session.signal }));
  context.exitCode = EXIT_CODES.OK;
}
