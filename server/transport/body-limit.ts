import { Code, ConnectError } from "@connectrpc/connect";

/** The 5-byte prefix of each message in gRPC, gRPC-Web and Connect streams. */
export const ENVELOPE_HEADER_BYTES = 5;

/** The most bytes a request body may have: one message of `readMaxBytes`, and its envelope's prefix if it has one. */
export function bodyLimit(readMaxBytes: number, enveloped: boolean): number {
  return readMaxBytes + (enveloped ? ENVELOPE_HEADER_BYTES : 0);
}

/**
 * RESOURCE_EXHAUSTED for a request body past its limit, worded as Connect words it; `size` is
 * the declared length, when the request declared one.
 */
export function bodyTooLarge(readMaxBytes: number, size: number | undefined): ConnectError {
  const what = size === undefined ? "message size" : `message size ${size}`;
  return new ConnectError(`${what} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
}
