import type { Command } from "commander";
import { JOB_STATUS } from "../../client/index.js";
import type { CliContext } from "../cli-context.js";
import { LIST_STATES, type ListState } from "../commands/list-states.js";
import { EXIT_CODES } from "../exit-codes.js";
import { openSession } from "../session.js";

export interface ListOptions {
  state?: ListState;
  pageSize?: number;
  pageToken?: string;
}

/** What `jobs-cli list` does: prints one page of jobs, one line each, newest first. */
export async function runList(context: CliContext, options: ListOptions, command: Command): Promise<void> {
  const session = openSession(context, command);
  const page = await session.client.listJobs({
    state: options.state === undefined ? undefined : JOB_STATUS[LIST_STATES[options.state]],
    pageSize: options.pageSize,
    pageToken: options.pageToken,
    signal: session.signal,
  });
  for (const job of page.jobs) {
    // No error line follows a list, so the line itself carries an ended job's message.
    session.output.job(job, { errorMessage: true });
  }
  if (page.jobs.length === 0 && !session.output.json) {
    session.output.note("no jobs");
  }
  if (page.nextPageToken !== "") {
    // On stderr, so stdout stays one job per line, also with --json.
    session.output.note(`more: --page-token ${page.nextPageToken}`);
  }
  context.exitCode = EXIT_CODES.OK;
}
