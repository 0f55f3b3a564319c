import { type DescMessage, fromBinary, fromJsonString, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { checkJson } from "./strict-json.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads one request message, strictly: malformed protobuf, text that is not UTF-8, JSON that is
 * not JSON or bends the protobuf JSON mapping are all INVALID_ARGUMENT (the caller's mistake,
 * never a 5xx, which load balancers count against the instance). Unknown JSON fields are
 * ignored, as Connect ignores them.
 */
export function parseMessage<Desc extends DescMessage>(desc: Desc, bytes: Uint8Array, binary: boolean): MessageShape<Desc> {
  if (binary) {
    try {
      return fromBinary(desc, bytes);
    } catch (error) {
      throw invalid(`the request is not a valid ${desc.typeName} in protobuf binary: ${reason(error)}`);
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid("the request is not UTF-8 text");
  }
  let message: MessageShape<Desc>;
  try {
    // fromJsonString, not fromJson: it refuses duplicate keys, which JSON.parse would merge.
    message = fromJsonString(desc, text, { ignoreUnknownFields: true });
  } catch (error) {
    throw invalid(reason(error));
  }
  // Well-formed by now: what protobuf-es let through is checked against the JSON mapping.
  checkJson(desc, JSON.parse(text));
  return message;
}

/** The flag of an envelope whose message is compressed (gRPC, gRPC-Web, Connect streams). */
export const COMPRESSED_FLAG = 0b01;

/** A message flagged compressed in a request that names no compression: the caller's mistake. */
export function compressedWithoutEncoding(): ConnectError {
  return invalid("protocol error: received a compressed message without grpc-encoding");
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
