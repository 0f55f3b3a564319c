import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

/**
 * Where `npm run build:web` writes the page: dist/web, beside the compiled server (dist/server) in
 * the jobs package, or jobs/dist/web in the repository when the server runs from source (tsx).
 */
export const DEFAULT_PAGE_DIR = fileURLToPath(
  existsSync(new URL("../../web/app.js", import.meta.url))
    ? new URL("../../web/", import.meta.url)
    : new URL("../../jobs/dist/web/", import.meta.url),
);

export interface PageRoutesOptions {
  /** The folder holding the built page (index.html, app.js, app.js.map, style.css). */
  dir: string;
}

/** The page's files: the path each is served at, its file and its content type. */
const PAGE_FILES = [
  { url: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { url: "/app.js", file: "app.js", type: "text/javascript; charset=utf-8" },
  { url: "/app.js.map", file: "app.js.map", type: "application/json; charset=utf-8" },
  { url: "/style.css", file: "style.css", type: "text/css; charset=utf-8" },
] as const;

// The page loads only its own files and calls only its own origin.
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = "The page is not built: run `npm run build:web`, then restart the server.\n";

interface PageFile {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Serves the browser page built by `npm run build:web`: GET /, /app.js, /app.js.map and
 * /style.css. The files are read once, when the plugin is registered, and answered from memory
 * with an ETag and `cache-control: no-cache` (browsers revalidate, and get 304 while unchanged).
 * When the folder has not been built, the routes answer 503 saying how to build it.
 */
export const pageRoutes: FastifyPluginAsync<PageRoutesOptions> = async (app, options) => {
  const files = await readPage(options.dir);
  if (files === undefined) {
    app.log.warn({ dir: options.dir }, "the browser page is not built; run `npm run build:web`");
  }
  for (const { url, file } of PAGE_FILES) {
    app.get(url, async (request, reply) => {
      const page = files?.get(file);
      return page === undefined ? notBuilt(reply) : send(request, reply, page, file === "index.html");
    });
  }
};

/** The built files, or undefined when one of them is missing. */
async function readPage(dir: string): Promise<Map<string, PageFile> | undefined> {
  const files = new Map<string, PageFile>();
  for (const { file, type } of PAGE_FILES) {
    let body: Buffer;
    try {
      body = await readFile(join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return undefined;
      }
      throw error;
    }
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    files.set(file, { body, type, etag });
  }
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, page: PageFile, isDocument: boolean): FastifyReply {
  void reply.header("cache-control", "no-cache").header("etag", page.etag).header("x-content-type-options", "nosniff");
  if (isDocument) {
    void reply.header("content-security-policy", PAGE_POLICY);
  }
  if (matches(request.headers["if-none-match"], page.etag)) {
    return reply.code(304).send();
  }
  return reply.type(page.type).send(page.body);
}

function notBuilt(reply: FastifyReply): FastifyReply {
  return reply.code(503).header("cache-control", "no-store").type("text/plain; charset=utf-8").send(NOT_BUILT);
}

/** Whether If-None-Match (a list of tags, or `*`) names this ETag; weak tags match too (RFC 9110). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) {
    return false;
  }
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
