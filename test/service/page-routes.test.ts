import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageRoutes } from "../../server/transport/page-routes.js";

// The routes of the browser page, on a folder of stand-in files: read once, answered with
// content types, no-cache and ETags; a folder never built answers 503 saying how to build it.

describe("page routes", () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "jobs-page-routes-"));
    await writeFile(join(dir, "index.html"), "<!doctype html><title>jobs</title>");
    await writeFile(join(dir, "app.js"), "console.log(1);");
    await writeFile(join(dir, "app.js.map"), "{}");
    await writeFile(join(dir, "style.css"), "body{}");
    app = fastify();
    await app.register(pageRoutes, { dir });
  });

  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves each file with its content type, cache-control no-cache and an ETag", async () => {
    const expected = {
      "/": "text/html; charset=utf-8",
      "/app.js": "text/javascript; charset=utf-8",
      "/app.js.map": "application/json; charset=utf-8",
      "/style.css": "text/css; charset=utf-8",
    };
    for (const [url, type] of Object.entries(expected)) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers["content-type"], url).toBe(type);
      expect(response.headers["cache-control"], url).toBe("no-cache");
      expect(response.headers.etag, url).toMatch(/^"[\w-]+"$/);
    }
    expect((await app.inject({ url: "/" })).body).toBe("<!doctype html><title>jobs</title>");
  });

  it("answers 304 to a request naming the current ETag, and 200 to one naming another", async () => {
    const { headers } = await app.inject({ url: "/app.js" });
    const etag = String(headers.etag);
    const fresh = await app.inject({ url: "/app.js", headers: { "if-none-match": `"other", W/${etag}` } });
    expect(fresh.statusCode).toBe(304);
    expect(fresh.body).toBe("");
    const stale = await app.inject({ url: "/app.js", headers: { "if-none-match": '"other"' } });
    expect(stale.statusCode).toBe(200);
  });

  it("keeps serving what it read at registration when the files change afterwards", async () => {
    await writeFile(join(dir, "style.css"), "body{color:red}");
    expect((await app.inject({ url: "/style.css" })).body).toBe("body{}");
  });

  it("answers 503 telling to run npm run build:web when the folder was never built", async () => {
    const unbuilt = fastify();
    await unbuilt.register(pageRoutes, { dir: join(dir, "missing") });
    try {
      const response = await unbuilt.inject({ url: "/" });
      expect(response.statusCode).toBe(503);
      expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(response.body).toContain("npm run build:web");
    } finally {
      await unbuilt.close();
    }
  });
});
