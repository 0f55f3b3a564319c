import { EXIT_CODES, type ExitCode } from "./exit-codes.js";
import type { LineSink } from "./output/output.js";

/** What a run of the CLI is given, and where a command leaves its exit status. */
export interface CliContext {
  stdout: LineSink;
  stderr: LineSink & NodeJS.WritableStream;
  /** Aborted on Ctrl-C: every call and wait takes it. */
  signal: AbortSignal;
  /** Set by the command that ran; an error thrown instead decides it from the error. */
  exitCode: ExitCode;
}

export function createContext(io: Omit<CliContext, "exitCode">): CliContext {
  return { ...io, exitCode: EXIT_CODES.OK };
}
