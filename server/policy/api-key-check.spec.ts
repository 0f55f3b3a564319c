import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { apiKeyId, createApiKeyCheck, presentedApiKey } from "./api-key-check.js";

const keyA = "key-a-9f8e7d6c5b4a3210";
const keyB = "key-b-0123456789abcdef";

describe("API keys", () => {
  it("names a key by the first 12 hex digits of its SHA-256, never by the key", () => {
    const id = apiKeyId(keyA);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(id).toBe(createHash("sha256").update(keyA).digest("hex").slice(0, 12));
    expect(apiKeyId(keyB)).not.toBe(id);
  });

  it("reads the key from authorization: Bearer (any case), else from x-api-key", () => {
    expect(presentedApiKey(new Headers({ authorization: `Bearer ${keyA}` }))).toBe(keyA);
    expect(presentedApiKey(new Headers({ authorization: `bearer  ${keyA} ` }))).toBe(keyA);
    expect(presentedApiKey(new Headers({ "x-api-key": ` ${keyB}` }))).toBe(keyB);
    expect(presentedApiKey(new Headers({ authorization: `Basic ${keyA}`, "x-api-key": keyB }))).toBe(keyB);
    expect(presentedApiKey(new Headers({ authorization: "Bearer " }))).toBeUndefined();
    expect(presentedApiKey(new Headers({ "x-api-key": "" }))).toBeUndefined();
    expect(presentedApiKey(new Headers())).toBeUndefined();
  });

  it("lets a configured key in, named by its id", () => {
    const check = createApiKeyCheck([keyA, keyB]);
    expect(check(`Bearer ${keyB}`, null)).toBe(apiKeyId(keyB));
    expect(check(null, keyA)).toBe(apiKeyId(keyA));
  });

  it("refuses a missing or unknown key with UNAUTHENTICATED and www-authenticate: Bearer", () => {
    const check = createApiKeyCheck([keyA]);
    const presented: [string | null, string | null][] = [
      [null, null],
      [`Bearer ${keyB}`, null],
      [null, keyA.toUpperCase()],
    ];
    for (const [authorization, xApiKey] of presented) {
      let error: unknown;
      try {
        check(authorization, xApiKey);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      expect((error as ConnectError).metadata.get("www-authenticate")).toBe("Bearer");
    }
  });

  it("refuses to be built without keys or with an empty one", () => {
    expect(() => createApiKeyCheck([])).toThrow(RangeError);
    expect(() => createApiKeyCheck([keyA, ""])).toThrow(RangeError);
  });
});
