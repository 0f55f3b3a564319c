import type { CommanderError } from "commander";

/** What the `jobs-cli` command's exit status means. Scripts branch on these; keep them stable. */
export const EXIT_CODES = Object.freeze({
  /** The job completed, or the command did what it was asked. */
  OK: 0,
  /** The job ended in ERROR or CANCELLED, or the server refused it: NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS. */
  JOB_FAILED: 1,
  /** The command line was wrong (a usage error, a bad duration or mode), or the server called an argument invalid (INVALID_ARGUMENT). */
  USAGE: 2,
  /** The wait ran out of time (--timeout) before the job ended. */
  TIMED_OUT: 3,
  /** The server could not be reached, or refused the caller: network failure, UNAUTHENTICATED, PERMISSION_DENIED, rate limited or failing after retries. */
  UNREACHABLE: 4,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const);

/** One of EXIT_CODES. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit status for commander's own end: 0 after the help or the version, else 2 (a usage error). */
export function exitCodeForCommander(error: CommanderError): ExitCode {
  return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
}
