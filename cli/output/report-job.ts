import { JOB_STATUS, type Job } from "../../client/index.js";
import { EXIT_CODES, type ExitCode } from "../exit-codes.js";
import type { Output } from "./output.js";

/**
 * Prints the job a command ends with, and returns the exit status it means (see reportEnd).
 */
export function reportJob(output: Output, job: Job): ExitCode {
  output.job(job);
  return reportEnd(output, job);
}

/**
 * The exit status a job shown last means: 1 when it ended in ERROR or CANCELLED, after one line
 * on stderr saying so (with the job's error message); else 0.
 */
export function reportEnd(output: Output, job: Job): ExitCode {
  if (job.state === JOB_STATUS.ERROR) {
    output.error(`job ${job.id} ended in ERROR: ${job.errorMessage === "" ? "(no message)" : job.errorMessage}`);
  } else if (job.state === JOB_STATUS.CANCELLED) {
    output.error(`job ${job.id} was cancelled`);
  }
  return exitCodeForJob(job);
}

/** The exit status for a job the command showed: 1 when it ended in ERROR or CANCELLED, else 0. */
export function exitCodeForJob(job: Job): ExitCode {
  return job.state === JOB_STATUS.ERROR || job.state === JOB_STATUS.CANCELLED ? EXIT_CODES.JOB_FAILED : EXIT_CODES.OK;
}
