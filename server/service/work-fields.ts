import { create, toJsonString } from "@bufbuild/protobuf";
import { type Duration, type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Progress, ProgressSchema } from "../../gen/jobs/v1/job_pb.js";
import { readDuration } from "./request-fields.js";

// Readers of the request fields of jobs of a kind and of WorkerService: each returns the field
// in the form the service uses, or throws INVALID_ARGUMENT naming the field, before anything is
// changed.

/** Attempts of a job whose creator asked for no particular number. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** The most attempts a job may ask for. */
export const MAX_ATTEMPTS_LIMIT = 100;
/** The most kinds one claim may name. */
export const MAX_CLAIM_KINDS = 16;
/** Longer progress messages are cut to this many characters. */
export const MAX_PROGRESS_MESSAGE = 256;
/** Longer error messages of FailJob are cut to this many characters. */
export const MAX_ERROR_MESSAGE = 4_096;
/** The shortest lease granted, in ms. */
export const MIN_LEASE_MS = 1_000;

const kindPattern = /^[A-Za-z0-9._/-]{1,64}$/;

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** A kind: 1 to 64 letters, digits and `.`, `_`, `-`, `/`. */
export function readKind(kind: string, field = "kind"): string {
  if (!kindPattern.test(kind)) {
    throw invalid(`${field} must be 1 to 64 letters, digits and . _ - / (got ${JSON.stringify(kind.slice(0, 80))})`);
  }
  return kind;
}

/** ClaimJob's kinds: 1 to MAX_CLAIM_KINDS kinds, repeats dropped. `field` names them in errors. */
export function readKinds(kinds: readonly string[], field = "kinds"): string[] {
  if (kinds.length === 0) {
    throw invalid(`${field} is required: name the kinds of job this worker does`);
  }
  if (kinds.length > MAX_CLAIM_KINDS) {
    throw invalid(`${field} may name at most ${MAX_CLAIM_KINDS} kinds, got ${kinds.length}`);
  }
  return [...new Set(kinds.map((kind, i) => readKind(kind, `${field}[${i}]`)))];
}

/** max_attempts: 0 means DEFAULT_MAX_ATTEMPTS; 1 to MAX_ATTEMPTS_LIMIT. */
export function readMaxAttempts(maxAttempts: number): number {
  if (maxAttempts === 0) {
    return DEFAULT_MAX_ATTEMPTS;
  }
  if (maxAttempts < 0 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw invalid(`max_attempts must be from 1 to ${MAX_ATTEMPTS_LIMIT} (or 0 for ${DEFAULT_MAX_ATTEMPTS}), got ${maxAttempts}`);
  }
  return maxAttempts;
}

/** A lease_duration in ms: unset or 0 means `defaultMs`; from MIN_LEASE_MS; longer is clamped to `maxMs`. */
export function readLeaseMs(duration: Duration | undefined, field: string, defaultMs: number, maxMs: number): number {
  const ms = readDuration(duration, field);
  if (ms === undefined || ms === 0) {
    return defaultMs;
  }
  if (ms < MIN_LEASE_MS) {
    throw invalid(`${field} must be at least ${MIN_LEASE_MS / 1000}s, got ${ms}ms`);
  }
  return Math.min(ms, maxMs);
}

/** A progress report: fraction from 0 to 1; the message cut to MAX_PROGRESS_MESSAGE characters. */
export function readProgress(progress: Progress): Progress {
  const { fraction, message } = progress;
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw invalid(`progress.fraction must be from 0 to 1, got ${fraction}`);
  }
  return create(ProgressSchema, { fraction, message: [...message].slice(0, MAX_PROGRESS_MESSAGE).join("") });
}

/** A JSON payload (input, result): at most `maxBytes` as JSON; unset stays unset. */
export function readPayload(value: Value | undefined, field: string, maxBytes: number): Value | undefined {
  if (value === undefined) {
    return undefined;
  }
  let json: string;
  try {
    json = toJsonString(ValueSchema, value);
  } catch {
    // A Value without a kind set, or a number JSON cannot carry (NaN, Infinity).
    throw invalid(`${field} is not a JSON value`);
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > maxBytes) {
    throw invalid(`${field} is ${bytes} bytes as JSON, more than the limit of ${maxBytes} (MAX_PAYLOAD_BYTES)`);
  }
  return value;
}

/** worker_id: optional, at most 128 characters. `field` names it in errors. */
export function readWorkerId(workerId: string, field = "worker_id"): string {
  if (workerId.length > 128) {
    throw invalid(`${field} must be at most 128 characters`);
  }
  return workerId;
}

/** lease_token: required; what ClaimJob gave. */
export function readLeaseToken(token: string): string {
  if (token === "") {
    throw invalid("lease_token is required: pass the lease_token ClaimJob gave");
  }
  if (token.length > 64) {
    throw invalid("lease_token is malformed");
  }
  return token;
}

/** FailJob's error_message, cut to MAX_ERROR_MESSAGE characters; a default when empty. */
export function readErrorMessage(message: string): string {
  return message === "" ? "the worker failed the job (no message given)" : [...message].slice(0, MAX_ERROR_MESSAGE).join("");
}
