import { Code, ConnectError } from "@connectrpc/connect";
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
  /** The id of the field that would fix it (the API key's), for the alert to point at. */
  fieldId?: string;
}

/** The id of the page's API key field. */
export const API_KEY_FIELD_ID = "api-key";

/**
 * Says what went wrong, naming the client's error class (or, for a refused key, the code) so it
 * can be looked up. Takes JobClient's errors and the generated client's ConnectError alike.
 */
export function describeError(error: unknown): ErrorText {
  const code = codeOf(error);
  if (code === Code.Unauthenticated) {
    return {
      title: "UNAUTHENTICATED",
      text: "The server needs a valid API key. Enter yours in the API key field at the top of the page.",
      fieldId: API_KEY_FIELD_ID,
    };
  }
  if (code === Code.PermissionDenied) {
    return {
      title: "PERMISSION_DENIED",
      text: "The server refused this API key for this call (a worker key may only work jobs): enter a client key in the API key field.",
      fieldId: API_KEY_FIELD_ID,
    };
  }
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
  if (error instanceof ConnectError) {
    return { title: `${error.name} (${Code[error.code]})`, text: error.rawMessage };
  }
  if (error instanceof Error) {
    return { title: error.name, text: error.message };
  }
  return { title: "Error", text: String(error) };
}

/** The Connect code of a failed call, whether JobClient or the generated client made it. */
function codeOf(error: unknown): Code | undefined {
  if (error instanceof JobClientError) {
    return error.code;
  }
  return error instanceof ConnectError ? error.code : undefined;
}
