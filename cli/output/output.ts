import { toJson } from "@bufbuild/protobuf";
import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobState, jobResult } from "../../client/index.js";
import { JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { formatDuration } from "../duration.js";
import { PROGRAM_NAME } from "../program-name.js";
import { jobProgress } from "./job-progress.js";

/** Anything the CLI writes lines to: process.stdout, process.stderr, or a test's stream. */
export interface LineSink {
  write(text: string): unknown;
  /** True on a terminal; live progress is drawn only there. */
  isTTY?: boolean;
}

/**
 * Where a command's results and messages go. Results (jobs) go to stdout, one per line: plain
 * text, or with `json` the job as proto JSON. Messages and errors go to stderr, one line each.
 */
export interface Output {
  readonly json: boolean;
  /** Prints a job to stdout. */
  job(job: Job, options?: JobLineOptions): void;
  /** Prints a message for people to stderr, such as a hint or a progress line. */
  note(line: string): void;
  /** Prints an error to stderr as one line: "jobs-cli: <line>". */
  error(line: string): void;
}

export interface OutputOptions {
  json: boolean;
  stdout: LineSink;
  stderr: LineSink;
  /** The clock for "ends in" in plain lines. @default Date.now */
  now?: () => number;
}

export function createOutput(options: OutputOptions): Output {
  const { json, stdout, stderr } = options;
  const now = options.now ?? Date.now;
  return {
    json,
    job: (job, lineOptions) =>
      stdout.write(`${json ? JSON.stringify(toJson(JobSchema, job)) : formatJob(job, now(), lineOptions)}\n`),
    note: (line) => stderr.write(`${line}\n`),
    error: (line) => stderr.write(`${PROGRAM_NAME}: ${oneLine(line)}\n`),
  };
}

/** A job's state without the enum prefix: "PENDING", "COMPLETED", ... */
export function stateName(job: Job): string {
  return JobState[job.state] ?? String(job.state);
}

/** How a job is written as a plain line. */
export interface JobLineOptions {
  /**
   * Add an ended job's error message. Only where nothing else prints it (a list): a command that
   * reports a job's end prints the message in its error line on stderr (reportEnd).
   * @default false
   */
  errorMessage?: boolean;
}

/**
 * One line for a job, its id first:
 * `Xq3...  PENDING    5s  v1  ends in 4.2s` or `Xq3...  ERROR      5s  v2  ended after 5.0s`
 * (`...: <message>` with `errorMessage`); for a job of a kind, its kind instead of the duration,
 * its worker's progress while pending (`40% resizing (attempt 1 of 3)`) and its result at the
 * end (`ended after 2.1s, result {"width":640}`).
 */
export function formatJob(job: Job, nowMs: number, options: JobLineOptions = {}): string {
  if (job.kind !== "") {
    return formatWorkJob(job, nowMs, options);
  }
  const duration = job.processingDuration === undefined ? "?" : formatDuration(durationMs(job.processingDuration));
  const columns = [job.id, stateName(job).padEnd(9), duration.padStart(6), `v${job.version}`];
  if (job.state === JobState.PENDING) {
    const end = job.estimatedCompletionTime === undefined ? undefined : timestampMs(job.estimatedCompletionTime);
    columns.push(end === undefined ? "" : `ends in ${formatDuration(end - nowMs)}`);
  } else if (job.createTime !== undefined && job.updateTime !== undefined) {
    const ended = `ended after ${formatDuration(timestampMs(job.updateTime) - timestampMs(job.createTime))}`;
    const withMessage = options.errorMessage === true && job.errorMessage !== "";
    columns.push(withMessage ? `${ended}: ${oneLine(job.errorMessage)}` : ended);
  }
  return columns.join("  ").trimEnd();
}

function formatWorkJob(job: Job, nowMs: number, options: JobLineOptions): string {
  const columns = [job.id, stateName(job).padEnd(9), job.kind, `v${job.version}`];
  if (job.state === JobState.PENDING) {
    const { fraction, note } = jobProgress(job, nowMs);
    columns.push(job.held ? `${Math.round(fraction * 100)}% ${note ?? ""}` : (note ?? ""));
  } else if (job.createTime !== undefined && job.updateTime !== undefined) {
    let ended = `ended after ${formatDuration(timestampMs(job.updateTime) - timestampMs(job.createTime))}`;
    const result = jobResult(job);
    if (job.state === JobState.COMPLETED && result !== undefined) {
      ended += `, result ${oneLine(JSON.stringify(result))}`;
    }
    const withMessage = options.errorMessage === true && job.errorMessage !== "";
    columns.push(withMessage ? `${ended}: ${oneLine(job.errorMessage)}` : ended);
  }
  return columns.join("  ").trimEnd();
}

// Messages come from servers and users; a line break in one must not split our one line.
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ");
}
