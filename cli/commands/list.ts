import { type Command, Option } from "commander";
import { JOB_STATUS, type JobStatus } from "../../client/index.js";
import { integerArgument } from "../arguments.js";
import { type CliContext, openSession } from "../cli-context.js";
import { EXIT_CODES } from "../exit-codes.js";

const states: Readonly<Record<string, JobStatus>> = {
  pending: JOB_STATUS.PENDING,
  completed: JOB_STATUS.COMPLETED,
  error: JOB_STATUS.ERROR,
  cancelled: JOB_STATUS.CANCELLED,
};

interface ListOptions {
  state?: string;
  pageSize?: number;
  pageToken?: string;
}

/** `jobs-cli list [--state S] [--page-size N] [--page-token T]`: one line per job, newest first. */
export function addListCommand(program: Command, context: CliContext): Command {
  return program
    .command("list")
    .description("print one page of jobs, newest first")
    .addOption(new Option("--state <state>", "only jobs in this state").choices(Object.keys(states)))
    .option("--page-size <n>", "jobs per page (default: the server's, 50)", integerArgument(1))
    .option("--page-token <token>", "the page to print, as the previous page named it")
    .action(async (options: ListOptions, command: Command) => {
      const session = openSession(context, command);
      const page = await session.client.listJobs({
        state: options.state === undefined ? undefined : states[options.state],
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
    });
}
