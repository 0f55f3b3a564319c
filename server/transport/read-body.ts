import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { bodyTooLarge } from "./body-limit.js";

export interface ReadBodyOptions {
  /** The request's Content-Length, if it declared one. */
  contentLength: string | undefined;
  /** The most bytes read (see bodyLimit). */
  limit: number;
  /** The message limit the error names. */
  readMaxBytes: number;
}

/**
 * Reads a request's whole body. Past `limit` (or a declared length above it) it rejects with
 * RESOURCE_EXHAUSTED and stops reading, leaving the stream paused and unharmed, so that the
 * answer can still be sent (and the rest of the body dropped with `resume()`); a caller who
 * resets or disconnects mid-way rejects it with CANCELED, so the call always ends.
 *
 * Written here rather than with Connect's readAllBytes over an async iterator: leaving such an
 * iterator early destroys the stream, and with it the answer.
 */
export function readBody(source: Readable, { contentLength, limit, readMaxBytes }: ReadBodyOptions): Promise<Uint8Array> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && declared > limit) {
    return Promise.reject(bodyTooLarge(readMaxBytes, declared));
  }
  if (source.readableEnded) {
    // Read to its end already (by nothing here): "end" will not come again.
    return Promise.resolve(new Uint8Array(0));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      source.off("data", onData);
      source.off("end", onEnd);
      source.off("error", onGone);
      source.off("close", onGone);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop();
        source.pause();
        reject(bodyTooLarge(readMaxBytes, declared));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const onGone = (): void => {
      stop();
      reject(new ConnectError("the caller left before its request was read", Code.Canceled));
    };
    source.on("data", onData);
    source.once("end", onEnd);
    source.once("error", onGone);
    source.once("close", onGone);
  });
}
