import type { Command } from "commander";
import { POLLING_MODES, type PollingMode } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { reportJob } from "../output/report-job.js";
import { openSession } from "../session.js";
import { waitForEnd } from "../wait-for-end.js";

export interface WaitOptions {
  /** @default "long" for one id; the client library's (a WatchJobs stream) for several */
  mode?: PollingMode;
  timeout?: number;
}

/** What `jobs-cli wait <id>` does: waits for the job's end and prints it (several ids: runWaitMany). */
export async function runWait(context: CliContext, id: string, options: WaitOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  const ended = await waitForEnd(session, id, {
    mode: options.mode ?? POLLING_MODES.LONG,
    timeoutMs: options.timeout,
  });
  context.exitCode = reportJob(session.output, ended);
}
