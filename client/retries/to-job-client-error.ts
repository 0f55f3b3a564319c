import { Code, ConnectError } from "@connectrpc/connect";
import {
  CallAbortedError,
  DeadlineExceededError,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../errors.js";
import { isNetworkFailure, isRefusedPort, retryHintMs } from "./retry-policy.js";

/** What a NetworkError for a port fetch refuses says (see isRefusedPort). */
const REFUSED_PORT = "fetch refuses the URL's port, one the Fetch standard blocks: serve on another port";

const serverCodes: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.Internal,
  Code.Unknown,
  Code.DataLoss,
  Code.Unimplemented,
  Code.Aborted,
]);

/**
 * The typed error for a failed call. `signal` is the caller's: when it has aborted, the failure
 * is the caller's own abort whatever the transport made of it.
 */
export function toJobClientError(error: unknown, context: { jobId?: string; signal?: AbortSignal }): JobClientError {
  if (error instanceof JobClientError) {
    return error;
  }
  if (context.signal?.aborted === true) {
    return new CallAbortedError("the call was aborted by its signal", { cause: context.signal.reason });
  }
  const cause = ConnectError.from(error);
  const message = cause.rawMessage;
  const code = cause.code;
  if (isRefusedPort(cause)) {
    return new NetworkError(`could not reach the server: ${REFUSED_PORT}`, { code, cause });
  }
  if (isNetworkFailure(cause)) {
    return new NetworkError(`could not reach the server: ${message}`, { code, cause });
  }
  if (code === Code.ResourceExhausted) {
    return new RateLimitError(`rate limited: ${message}`, { cause, retryAfterMs: retryHintMs(cause) });
  }
  if (code === Code.NotFound && context.jobId !== undefined) {
    return new JobNotFoundError(message, { cause, jobId: context.jobId });
  }
  if (code === Code.DeadlineExceeded) {
    return new DeadlineExceededError(`the call ran out of time: ${message}`, { cause });
  }
  if (serverCodes.has(code)) {
    return new ServerError(`server error (${Code[code]}): ${message}`, { code, cause });
  }
  return new JobClientError(message, { code, cause });
}
