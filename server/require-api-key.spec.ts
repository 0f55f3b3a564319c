import { createHash } from "node:crypto";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { callerKey, ownerKey } from "./caller.js";
import { apiKeyId, presentedApiKey, requireApiKey } from "./require-api-key.js";

const keyA = "key-a-9f8e7d6c5b4a3210";
const keyB = "key-b-0123456789abcdef";

function contextWith(requestHeader: Record<string, string>) {
  return createHandlerContext({
    service: JobService,
    method: JobService.method.listJobs,
    protocolName: "connect",
    requestMethod: "POST",
    url: "http://127.0.0.1/jobs.v1.JobService/ListJobs",
    requestHeader,
  });
}

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

  it("lets a configured key in, as caller and owner both named by its id", () => {
    const gate = requireApiKey([keyA, keyB]);
    const ctx = contextWith({ authorization: `Bearer ${keyB}` });
    gate(ctx);
    expect(ctx.values.get(callerKey)).toBe(apiKeyId(keyB));
    expect(ctx.values.get(ownerKey)).toBe(apiKeyId(keyB));
  });

  it("refuses a missing or unknown key with UNAUTHENTICATED and www-authenticate: Bearer", () => {
    const gate = requireApiKey([keyA]);
    const headers: Record<string, string>[] = [{}, { authorization: `Bearer ${keyB}` }, { "x-api-key": keyA.toUpperCase() }];
    for (const header of headers) {
      let error: unknown;
      try {
        gate(contextWith(header));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      expect((error as ConnectError).metadata.get("www-authenticate")).toBe("Bearer");
    }
  });

  it("refuses to be built without keys or with an empty one", () => {
    expect(() => requireApiKey([])).toThrow(RangeError);
    expect(() => requireApiKey([keyA, ""])).toThrow(RangeError);
  });
});
