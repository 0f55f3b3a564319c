import type { Command } from "commander";
import type { Job } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { reportEnd } from "../output/report-job.js";
import { openSession } from "../session.js";

export interface WatchOptions {
  timeout?: number;
}

/** What `jobs-cli watch` does: prints the job, then each change as it happens, until it ends. */
export async function runWatch(context: CliContext, id: string, options: WatchOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  let last: Job | undefined;
  for await (const job of session.client.watch(id, { timeoutMs: options.timeout, signal: session.signal })) {
    session.output.job(job);
    last = job;
  }
  context.exitCode = last === undefined ? EXIT_CODES.OK : reportEnd(session.output, last);
}
