import type { Command } from "commander";
import type { CliContext } from "../cli-context.js";
import { reportJob } from "../output/report-job.js";
import { openSession } from "../session.js";
import { waitForChange } from "../wait-for-change.js";

export interface StatusOptions {
  wait?: number;
}

/** What `jobs-cli status` does: prints the job, after waiting up to --wait for its next change. */
export async function runStatus(context: CliContext, id: string, options: StatusOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  const { job } = await session.client.getStatus(id, { signal: session.signal });
  const shown = await waitForChange(session, job, options.wait ?? 0);
  context.exitCode = reportJob(session.output, shown);
}
