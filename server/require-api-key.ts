import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { callerKey, ownerKey } from "./caller.js";

/** How many hex digits of a key's SHA-256 name it (48 bits: no collisions among a server's keys). */
const KEY_ID_LENGTH = 12;

/**
 * The short id that stands for `key` wherever the server needs the caller's identity (job
 * ownership, rate limits, per-caller caps): the first hex digits of its SHA-256. The key cannot
 * be read back from it, so ids may be stored and logged where keys must never be.
 */
export function apiKeyId(key: string): string {
  return sha256(key).toString("hex").slice(0, KEY_ID_LENGTH);
}

/** The key a request presents: `authorization: Bearer <key>`, else `x-api-key: <key>`. */
export function presentedApiKey(header: Headers): string | undefined {
  const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(header.get("authorization") ?? "")?.[1];
  const key = bearer ?? header.get("x-api-key")?.trim();
  return key === "" ? undefined : key;
}

/**
 * A request gate (connect's `requestGate`: it runs before the request body is read) that lets
 * through only calls presenting one of `keys`, and makes the key's id both the caller (rate
 * limits, per-caller caps) and the owner (which jobs the call sees). Other calls end with
 * UNAUTHENTICATED and `www-authenticate: Bearer`.
 *
 * Keys are compared as SHA-256 digests (the configured ones hashed once, here) with
 * timingSafeEqual against every key, with no early exit, so the time taken does not tell how
 * much of a key was right, nor which key matched.
 */
export function requireApiKey(keys: readonly string[]): (ctx: HandlerContext) => void {
  if (keys.length === 0 || keys.some((key) => key === "")) {
    throw new RangeError("requireApiKey needs at least one key, and no empty key");
  }
  const digests = keys.map(sha256);
  return (ctx) => {
    const presented = presentedApiKey(ctx.requestHeader);
    const digest = sha256(presented ?? "");
    let matches = 0;
    for (const known of digests) {
      matches |= timingSafeEqual(known, digest) ? 1 : 0;
    }
    if (presented === undefined || matches === 0) {
      throw new ConnectError(
        "a valid API key is required: send it as `authorization: Bearer <key>` or `x-api-key: <key>`",
        Code.Unauthenticated,
        { "www-authenticate": "Bearer" },
      );
    }
    const id = digest.toString("hex").slice(0, KEY_ID_LENGTH);
    ctx.values.set(callerKey, id).set(ownerKey, id);
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
