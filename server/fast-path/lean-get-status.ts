import { isUtf8 } from "node:buffer";
import { type GetStatusRequest, GetStatusRequestSchema, JobService } from "../../gen/jobs/v1/job_service_pb.js";
import type { GetStatus } from "../service/job-service.js";
import { parseMessage } from "../transport/parse-message.js";
import type { LeanMethod } from "./lean-unary.js";
import { statusResponseBinary, statusResponseJson } from "./status-encoding.js";

/**
 * GetStatus on the lean path, the hottest call of all (every poll, every long wait): the plain
 * JSON that clients send is read with JSON.parse and a check rather than protobuf-es's general
 * reader, and answers are written from the cached encodings of their parts (status-encoding.ts).
 */
export function leanGetStatus(getStatus: GetStatus): LeanMethod {
  return {
    method: JobService.method.getStatus,
    audience: "jobs",
    read: (bytes, binary) => (binary ? parseMessage(GetStatusRequestSchema, bytes, true) : readJsonRequest(bytes)),
    call: getStatus,
    write: (response, binary) => (binary ? statusResponseBinary(response) : statusResponseJson(response)),
  };
}

/** Plain JSON is read by hand; anything else (and any mistake) the strict reader reads or refuses. */
function readJsonRequest(body: Uint8Array): GetStatusRequest {
  const plain = isUtf8(body) ? readPlainRequest(Buffer.from(body).toString("utf8")) : undefined;
  return plain ?? parseMessage(GetStatusRequestSchema, body, false);
}

/** The largest Duration protobuf allows (10,000 years). */
const MAX_DURATION_SECONDS = 315_576_000_000;
const plainWait = /^(\d{1,12})(?:\.(\d{1,9}))?s$/;
const plainVersion = /^\d{1,19}$/;

/**
 * The request as protobuf-es would read it, for the plain JSON that clients send (`jobId`, and
 * `wait`, `knownVersion` and `untilTerminal` in their usual forms), without its general JSON reader. Undefined for
 * anything else, which the general reader then reads (or refuses) as the Connect handler would.
 */
function readPlainRequest(text: string): GetStatusRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return undefined;
  }
  const { jobId, wait, knownVersion, untilTerminal, ...rest } = value as Record<string, unknown>;
  if (
    Object.keys(rest).length > 0 ||
    (jobId !== undefined && typeof jobId !== "string") ||
    (untilTerminal !== undefined && typeof untilTerminal !== "boolean")
  ) {
    return undefined;
  }
  // JSON.parse keeps the last of duplicate keys, which the strict reader refuses: each key read
  // here must be written once (no value of these four can hold a quote).
  for (const key of Object.keys(value)) {
    if (text.indexOf(`"${key}"`) !== text.lastIndexOf(`"${key}"`) || !text.includes(`"${key}"`)) {
      return undefined;
    }
  }
  const waitMatch = wait === undefined ? undefined : typeof wait === "string" ? plainWait.exec(wait) : null;
  const versionOk = knownVersion === undefined || (typeof knownVersion === "string" && plainVersion.test(knownVersion));
  if (waitMatch === null || !versionOk || (waitMatch !== undefined && Number(waitMatch[1]) > MAX_DURATION_SECONDS)) {
    return undefined;
  }
  return {
    $typeName: GetStatusRequestSchema.typeName,
    jobId: jobId ?? "",
    wait:
      waitMatch === undefined
        ? undefined
        : {
            $typeName: "google.protobuf.Duration",
            seconds: BigInt(waitMatch[1] as string),
            nanos: Number((waitMatch[2] ?? "").padEnd(9, "0")),
          },
    knownVersion: knownVersion === undefined ? 0n : BigInt(knownVersion as string),
    untilTerminal: untilTerminal === true,
  };
}
