import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";

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
  return presentedKey(header.get("authorization"), header.get("x-api-key"));
}

function presentedKey(authorization: string | null, xApiKey: string | null): string | undefined {
  const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  const key = bearer ?? xApiKey?.trim();
  return key === "" ? undefined : key;
}

/**
 * The API key check, apart from any transport: given a request's `authorization` and
 * `x-api-key` headers, the id of the valid key presented (see apiKeyId), else UNAUTHENTICATED
 * with `www-authenticate: Bearer`.
 *
 * Keys are compared as SHA-256 digests (the configured ones hashed once, here) with
 * timingSafeEqual against every key, with no early exit, so the time taken does not tell how
 * much of a key was right, nor which key matched.
 */
export function createApiKeyCheck(keys: readonly string[]): (authorization: string | null, xApiKey: string | null) => string {
  if (keys.length === 0 || keys.some((key) => key === "")) {
    throw new RangeError("createApiKeyCheck needs at least one key, and no empty key");
  }
  const digests = keys.map(sha256);
  return (authorization, xApiKey) => {
    const presented = presentedKey(authorization, xApiKey);
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
    return digest.toString("hex").slice(0, KEY_ID_LENGTH);
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
