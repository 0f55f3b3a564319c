import { Code } from "@connectrpc/connect";
import {
  CallAbortedError,
  DeadlineExceededError,
  isTerminal,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
} from "../../client/index.js";
import { formatDuration } from "../duration.js";
import { stateName } from "./output.js";

export interface ErrorContext {
  /** The server's URL, named when it cannot be reached. */
  url: string;
}

/**
 * One line saying what went wrong, for people: `job "x" not found`, `invalid argument: ...`,
 * `could not reach http://...: connect ECONNREFUSED ...`. No stack, no class names.
 */
export function errorLine(error: unknown, context: ErrorContext): string {
  if (error instanceof JobNotFoundError) {
    return error.jobIds.length > 1 ? `jobs ${quoted(error.jobIds)} not found` : `job "${error.jobId}" not found`;
  }
  if (error instanceof CallAbortedError) {
    return "interrupted";
  }
  if (error instanceof DeadlineExceededError) {
    if (error.lastJobs.length > 1) {
      const open = error.lastJobs.filter((job) => !isTerminal(job));
      return `timed out: ${open.length} of ${error.lastJobs.length} jobs still PENDING: ${listed(open.map((job) => job.id))}`;
    }
    const last = error.lastJob;
    return last === undefined ? `timed out: ${error.message}` : `timed out: job ${last.id} is still ${stateName(last)}`;
  }
  if (error instanceof NetworkError) {
    return `could not reach the server at ${context.url}: ${rootCause(error)}`;
  }
  if (error instanceof RateLimitError) {
    const hint = error.retryAfterMs === undefined ? "" : ` (retry in ${formatDuration(error.retryAfterMs)})`;
    return `${error.message}${hint}`;
  }
  if (error instanceof JobClientError && (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied)) {
    return `${codeName(error.code)}: ${error.message} (give a key with --api-key or JOBS_API_KEY)`;
  }
  if (error instanceof JobClientError && error.code !== undefined && error.code !== Code.Unknown) {
    // ServerError says "server error (CODE)" itself; the other codes are named here.
    return error.message.startsWith("server error") ? error.message : `${codeName(error.code)}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The most ids an error line names; the others are counted. */
const MAX_IDS_NAMED = 5;

/** `"a", "b"`, or `"a", ..., "e" and 3 more`. */
function quoted(ids: readonly string[]): string {
  return listed(ids.map((id) => `"${id}"`));
}

/** `a, b, c`, or `a, b, c, d, e and 3 more`. */
function listed(items: readonly string[]): string {
  const named = items.slice(0, MAX_IDS_NAMED).join(", ");
  return items.length > MAX_IDS_NAMED ? `${named} and ${items.length - MAX_IDS_NAMED} more` : named;
}

/** "FailedPrecondition" -> "failed precondition". */
function codeName(code: Code): string {
  return (Code[code] ?? String(code)).replace(/(?<=[a-z])(?=[A-Z])/g, " ").toLowerCase();
}

/** Root causes that say little to a person as they are, in plain words, by message or code. */
const PLAIN_CAUSES: ReadonlyMap<string, string> = new Map([
  ["bad port", "fetch refuses this port, one the Fetch standard blocks: serve on another port"],
  ["ERR_SSL_WRONG_VERSION_NUMBER", "no TLS there: is it an http:// server?"],
]);

// fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND ...) is further down the causes.
function rootCause(error: Error): string {
  let deepest: unknown = error;
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    deepest = cause;
  }
  if (!(deepest instanceof Error)) {
    return String(deepest);
  }
  const code = (deepest as { code?: unknown }).code;
  return PLAIN_CAUSES.get(deepest.message) ?? (typeof code === "string" ? PLAIN_CAUSES.get(code) : undefined) ?? deepest.message;
}
