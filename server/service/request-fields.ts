import type { Duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { isJobId } from "./job-id.js";

// Readers of request fields: each returns the field in the form the service uses, or throws
// INVALID_ARGUMENT naming the field, before anything is changed.

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** A job id field: required and shaped like the ids the server hands out. */
export function readJobId(jobId: string, field = "job_id"): string {
  if (jobId === "") {
    throw invalid(`${field} is required`);
  }
  if (!isJobId(jobId)) {
    throw invalid(`${field} is malformed: job ids are 22 characters of base64url`);
  }
  return jobId;
}

/** A Duration field in ms; undefined stays undefined. Negative or malformed is INVALID_ARGUMENT. */
export function readDuration(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) {
    return undefined;
  }
  const { seconds, nanos } = duration;
  const mixedSigns = (seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0);
  if (mixedSigns || nanos <= -1_000_000_000 || nanos >= 1_000_000_000) {
    throw invalid(`${field} is not a valid duration`);
  }
  if (seconds < 0n || nanos < 0) {
    throw invalid(`${field} must not be negative`);
  }
  return Number(seconds) * 1000 + nanos / 1_000_000;
}

/** processing_duration: required, from 0 to `maxMs`. */
export function readProcessingDuration(duration: Duration | undefined, maxMs: number): number {
  const ms = readDuration(duration, "processing_duration");
  if (ms === undefined) {
    throw invalid("processing_duration is required");
  }
  if (ms > maxMs) {
    throw invalid(`processing_duration must be at most ${maxMs / 1000}s`);
  }
  return ms;
}

/** request_id: empty, or a UUID (AIP-155). */
export function readRequestId(requestId: string): string {
  if (requestId !== "" && !uuidPattern.test(requestId)) {
    throw invalid("request_id must be a UUID, such as 3f1c2d9e-8a4b-4c6d-9e0f-123456789abc");
  }
  return requestId.toLowerCase();
}

/** A JobState filter: UNSPECIFIED means any (undefined); values outside the enum are invalid. */
export function readStateFilter(state: JobState): JobState | undefined {
  if (state === JobState.UNSPECIFIED) {
    return undefined;
  }
  if (JobState[state] === undefined) {
    throw invalid(`state ${state} is not a JobState`);
  }
  return state;
}

/** page_size: 0 means `fallback`, larger than `max` is clamped, negative is invalid. */
export function readPageSize(pageSize: number, fallback: number, max: number): number {
  if (pageSize < 0) {
    throw invalid("page_size must not be negative");
  }
  return pageSize === 0 ? fallback : Math.min(pageSize, max);
}
