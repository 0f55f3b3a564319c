import { Code, ConnectError } from "@connectrpc/connect";
import type { JobState } from "../../gen/jobs/v1/job_pb.js";

// A page token carries the store's position and the filter it was made for, so that a token
// reused with another filter is refused instead of skipping jobs. It is opaque to callers.

const tokenPattern = /^p1\.(\d{1,15})\.(\d{1,3})$/;

/** The token that continues a listing after `position` with the `state` filter (0 = any). */
export function encodePageToken(position: number, state: JobState | undefined): string {
  return Buffer.from(`p1.${position}.${state ?? 0}`).toString("base64url");
}

/**
 * The position a token continues after; undefined for the empty token (first page).
 * Throws INVALID_ARGUMENT for tokens the server did not make or made for another filter.
 */
export function decodePageToken(token: string, state: JobState | undefined): number | undefined {
  if (token === "") {
    return undefined;
  }
  const match = tokenPattern.exec(Buffer.from(token, "base64url").toString("latin1"));
  if (match === null) {
    throw new ConnectError("page_token is malformed: pass next_page_token as it came", Code.InvalidArgument);
  }
  if (Number(match[2]) !== (state ?? 0)) {
    throw new ConnectError("page_token was issued for another state filter", Code.InvalidArgument);
  }
  return Number(match[1]);
}
