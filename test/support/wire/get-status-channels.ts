import { create, type MessageInitShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { GetStatusRequestSchema } from "../../../gen/jobs/v1/job_service_pb.js";
import { grpcFrame, grpcStatusOf, jsonOf, type RawAnswer } from "./raw-http.js";
import type { WirePool } from "./wire-pool.js";

// The ways a GetStatus request travels, as users send it: HTTP/1.1 or HTTP/2, Connect JSON or
// binary or gRPC, with a Content-Length or without.

export type Protocol = "json" | "proto" | "grpc";

/** How a request travels. */
export interface Channel {
  httpVersion: "1.1" | "2";
  protocol: Protocol;
  /** Content-Length sent, or not (HTTP/1.1 then sends the body chunked). */
  declareLength: boolean;
}

export type GetStatusFields = MessageInitShape<typeof GetStatusRequestSchema>;

const protocolNames: Record<Protocol, string> = { json: "Connect JSON", proto: "Connect binary", grpc: "gRPC" };

const contentTypes: Record<Protocol, Record<string, string>> = {
  json: { "content-type": "application/json" },
  proto: { "content-type": "application/proto" },
  grpc: { "content-type": "application/grpc", te: "trailers" },
};

// gRPC over HTTP/1.1 is left out: gRPC needs HTTP/2 (its status travels in trailers), no gRPC
// client sends it over HTTP/1.1, and the lean path does not take it there.
export const channels: readonly Channel[] = (["1.1", "2"] as const).flatMap((httpVersion) =>
  (["json", "proto", "grpc"] as const)
    .filter((protocol) => protocol !== "grpc" || httpVersion === "2")
    .flatMap((protocol) => [true, false].map((declareLength) => ({ httpVersion, protocol, declareLength }))),
);

/** Such as "Connect JSON over HTTP/1.1, chunked". */
export function channelName({ httpVersion, protocol, declareLength }: Channel): string {
  const length = declareLength ? "with Content-Length" : httpVersion === "1.1" ? "chunked" : "without Content-Length";
  return `${protocolNames[protocol]} over HTTP/${httpVersion}, ${length}`;
}

/** A GetStatus request's message in `protocol`: JSON, binary, or binary in one gRPC frame. */
export function encodeGetStatus(protocol: Protocol, fields: GetStatusFields): Uint8Array {
  const message = create(GetStatusRequestSchema, fields);
  if (protocol === "json") {
    return new TextEncoder().encode(toJsonString(GetStatusRequestSchema, message));
  }
  const bytes = toBinary(GetStatusRequestSchema, message);
  return protocol === "grpc" ? grpcFrame(bytes) : bytes;
}

/** The header giving the caller's deadline in `protocol`: milliseconds, or a raw value. */
export function timeoutHeader(protocol: Protocol, timeout: number | string): Record<string, string> {
  if (protocol === "grpc") {
    return { "grpc-timeout": typeof timeout === "number" ? `${timeout}m` : timeout };
  }
  return { "connect-timeout-ms": String(timeout) };
}

/** POSTs `body` to GetStatus at `url` over `channel`, with its content type and `headers`. */
export function sendGetStatus(
  pool: WirePool,
  { url, channel, body, headers = {} }: { url: string; channel: Channel; body: Uint8Array; headers?: Record<string, string> },
): Promise<RawAnswer> {
  return pool.send({
    url,
    path: "/jobs.v1.JobService/GetStatus",
    httpVersion: channel.httpVersion,
    headers: { ...contentTypes[channel.protocol], ...headers },
    body,
    declareLength: channel.declareLength,
  });
}

/** The code an answer carries in `protocol`; undefined for OK. */
export function codeOf(answer: RawAnswer, protocol: Protocol): Code | undefined {
  if (protocol === "grpc") {
    const status = grpcStatusOf(answer).code;
    return status === "0" ? undefined : (Number(status) as Code);
  }
  return answer.status === 200 ? undefined : codeFromString(String(jsonOf(answer)?.code));
}
