import { Code } from "@connectrpc/connect";
import { CommanderError } from "commander";
import {
  CallAbortedError,
  DeadlineExceededError,
  JOB_STATUS,
  type Job,
  JobClientError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../client/index.js";

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

const refusedCodes: ReadonlySet<Code> = new Set([Code.Unauthenticated, Code.PermissionDenied]);

/** The exit status for a job the command showed: 1 when it ended in ERROR or CANCELLED, else 0. */
export function exitCodeForJob(job: Job): ExitCode {
  return job.state === JOB_STATUS.ERROR || job.state === JOB_STATUS.CANCELLED ? EXIT_CODES.JOB_FAILED : EXIT_CODES.OK;
}

/** The exit status for an error a command threw. */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
  }
  if (error instanceof CallAbortedError) {
    return EXIT_CODES.INTERRUPTED;
  }
  if (error instanceof DeadlineExceededError) {
    return EXIT_CODES.TIMED_OUT;
  }
  if (error instanceof NetworkError || error instanceof RateLimitError || error instanceof ServerError) {
    return EXIT_CODES.UNREACHABLE;
  }
  if (error instanceof JobClientError && error.code !== undefined && refusedCodes.has(error.code)) {
    return EXIT_CODES.UNREACHABLE;
  }
  if (error instanceof JobClientError && error.code === Code.InvalidArgument) {
    return EXIT_CODES.USAGE;
  }
  if (error instanceof RangeError) {
    return EXIT_CODES.USAGE;
  }
  return EXIT_CODES.JOB_FAILED;
}
