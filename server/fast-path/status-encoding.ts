import { toBinary, toJsonString } from "@bufbuild/protobuf";
import { type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema } from "../../gen/jobs/v1/job_pb.js";
import type { GetStatusResponse } from "../../gen/jobs/v1/job_service_pb.js";

// GetStatusResponse, encoded as protobuf-es encodes it (the same bytes: a test compares them),
// but from parts encoded once: a job is immutable once stored, so its JSON and binary forms are
// kept beside it for every poll that answers with it, and the few poll hints are kept by value.
// The last whole answer per job is kept too: polls of one job mostly get the same hint object
// (the service shares one Duration per hint), and then the bytes are reused as they are.

const jobJson = new WeakMap<Job, string>();
const jobBinary = new WeakMap<Job, Uint8Array>();
const durationJson = new Map<string, string>();
const durationBinary = new Map<string, Uint8Array>();
/** Bounds the duration caches; poll hints take a few hundred values at most. */
const MAX_DURATIONS = 4_096;
const encoder = new TextEncoder();

interface LastAnswer {
  hint: Duration | undefined;
  bytes: Uint8Array;
}

const lastJson = new WeakMap<Job, LastAnswer>();
const lastBinary = new WeakMap<Job, LastAnswer>();

/** The response as canonical protobuf JSON, in UTF-8. Do not modify the bytes: they may be shared. */
export function statusResponseJson(response: GetStatusResponse): Uint8Array {
  return reuse(lastJson, response, encodeJson);
}

/** The response in the protobuf binary format. Do not modify the bytes: they may be shared. */
export function statusResponseBinary(response: GetStatusResponse): Uint8Array {
  return reuse(lastBinary, response, encodeBinary);
}

function reuse(
  cache: WeakMap<Job, LastAnswer>,
  response: GetStatusResponse,
  encode: (response: GetStatusResponse) => Uint8Array,
): Uint8Array {
  const job = response.job;
  if (job === undefined) {
    return encode(response);
  }
  const last = cache.get(job);
  if (last !== undefined && last.hint === response.nextPollAfter) {
    return last.bytes;
  }
  const bytes = encode(response);
  cache.set(job, { hint: response.nextPollAfter, bytes });
  return bytes;
}

function encodeJson(response: GetStatusResponse): Uint8Array {
  let text = "{";
  if (response.job !== undefined) {
    text += `"job":${cached(jobJson, response.job, () => toJsonString(JobSchema, response.job as Job))}`;
  }
  if (response.nextPollAfter !== undefined) {
    const hint = durationText(response.nextPollAfter);
    text += `${text.length > 1 ? "," : ""}"nextPollAfter":${hint}`;
  }
  return encoder.encode(`${text}}`);
}

function encodeBinary(response: GetStatusResponse): Uint8Array {
  const job =
    response.job === undefined ? undefined : cached(jobBinary, response.job, () => toBinary(JobSchema, response.job as Job));
  const hint = response.nextPollAfter === undefined ? undefined : durationBytes(response.nextPollAfter);
  const size = field(job) + field(hint);
  const bytes = new Uint8Array(size);
  let at = 0;
  // Field 1 (job) and field 2 (next_poll_after), both length-delimited (wire type 2).
  at = put(bytes, at, 0x0a, job);
  put(bytes, at, 0x12, hint);
  return bytes;
}

function cached<K extends object, V>(cache: WeakMap<K, V>, key: K, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    cache.set(key, value);
  }
  return value;
}

function durationKey(duration: Duration): string {
  return `${duration.seconds}.${duration.nanos}`;
}

function durationText(duration: Duration): string {
  return bounded(durationJson, durationKey(duration), () => toJsonString(DurationSchema, duration));
}

function durationBytes(duration: Duration): Uint8Array {
  return bounded(durationBinary, durationKey(duration), () => toBinary(DurationSchema, duration));
}

function bounded<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    if (cache.size >= MAX_DURATIONS) {
      cache.clear();
    }
    cache.set(key, value);
  }
  return value;
}

/** Bytes a length-delimited field takes: tag, length, payload. */
function field(payload: Uint8Array | undefined): number {
  return payload === undefined ? 0 : 1 + varintSize(payload.length) + payload.length;
}

function put(bytes: Uint8Array, at: number, tag: number, payload: Uint8Array | undefined): number {
  if (payload === undefined) {
    return at;
  }
  bytes[at++] = tag;
  let length = payload.length;
  while (length > 0x7f) {
    bytes[at++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  bytes[at++] = length;
  bytes.set(payload, at);
  return at + payload.length;
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value >>>= 7;
    size++;
  }
  return size;
}
