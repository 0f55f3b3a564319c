import {
  CallAbortedError,
  DeadlineExceededError,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../client/index.js";

/** A client error as the page shows it: the error class's name and a sentence for people. */
export interface ErrorText {
  title: string;
  text: string;
}

/** Says what went wrong, naming the client's error class so it can be looked up. */
export function describeError(error: unknown): ErrorText {
  if (error instanceof RateLimitError) {
    const wait = error.retryAfterMs === undefined ? "" : ` Try again in ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))} s.`;
    return { title: error.name, text: `The server refused: too many requests.${wait}` };
  }
  if (error instanceof NetworkError) {
    return { title: error.name, text: `${error.message}. Is the server running?` };
  }
  if (error instanceof ServerError) {
    return { title: error.name, text: `The server failed and retries ran out (${error.message}).` };
  }
  if (error instanceof JobNotFoundError) {
    return { title: error.name, text: `The server has no job ${error.jobId}; it may have restarted.` };
  }
  if (error instanceof DeadlineExceededError || error instanceof CallAbortedError || error instanceof JobClientError) {
    return { title: error.name, text: error.message };
  }
  if (error instanceof Error) {
    return { title: error.name, text: error.message };
  }
  return { title: "Error", text: String(error) };
}
