import { Code } from "@connectrpc/connect";
import { CommanderError } from "commander";
import {
  CallAbortedError,
  DeadlineExceededError,
  JobClientError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../client/index.js";
import { EXIT_CODES, type ExitCode, exitCodeForCommander } from "./exit-codes.js";

const refusedCodes: ReadonlySet<Code> = new Set([Code.Unauthenticated, Code.PermissionDenied]);

/** The exit status for an error a command threw. */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    return exitCodeForCommander(error);
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
