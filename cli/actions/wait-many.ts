import type { Command } from "commander";
import { isTerminal } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES, type ExitCode } from "../exit-codes.js";
import { reportJob } from "../output/report-job.js";
import { openSession } from "../session.js";
import type { WaitOptions } from "./wait.js";

/**
 * What `jobs-cli wait <id> <id>...` does: waits for every job with awaitAll, printing each job as
 * it ends (with its error line when it ended in ERROR or CANCELLED), and exits 0 when all
 * completed, 1 when any did not. A timeout, an abort or an unknown id is thrown, as for one job.
 */
export async function runWaitMany(context: CliContext, ids: string[], options: WaitOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  const progress = session.progressMany(ids);
  let exitCode: ExitCode = EXIT_CODES.OK;
  try {
    await session.client.awaitAll(ids, {
      mode: options.mode,
      timeoutMs: options.timeout,
      signal: session.signal,
      onUpdate: (job) => {
        progress.update(job);
        if (isTerminal(job)) {
          progress.print(() => {
            if (reportJob(session.output, job) !== EXIT_CODES.OK) {
              exitCode = EXIT_CODES.JOB_FAILED;
            }
          });
        }
      },
    });
  } finally {
    progress.finish();
  }
  context.exitCode = exitCode;
}
