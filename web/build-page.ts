import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The folder the server reads the page from, unless told otherwise: `<repo>/jobs/dist/web`. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL("../jobs/dist/web/", import.meta.url));

const SOURCE_DIR = fileURLToPath(new URL(".", import.meta.url));

/** Files copied as they are, beside the bundle. */
const STATIC_FILES = ["index.html", "style.css"];

export interface BuildPageOptions {
  /** Where to write the page; emptied first. @default DEFAULT_OUT_DIR */
  outDir?: string;
}

/**
 * Builds the browser page: bundles web/app.ts (with the client library) for browsers into
 * `app.js` and `app.js.map`, and copies index.html and style.css beside it. Throws when the
 * bundle would import anything at run time, such as a `node:` module.
 */
export async function buildPage(options: BuildPageOptions = {}): Promise<string[]> {
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, "app.js");
  const result = await build({
    entryPoints: [join(SOURCE_DIR, "app.ts")],
    outfile,
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  // The page loads one self-contained file: any import left in it would fail in the browser.
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
  const bundle = await readFile(outfile, "utf8");
  if (imports.length > 0 || /["'`]node:/.test(bundle)) {
    throw new Error(`the page bundle must not import anything at run time, found: ${imports.join(", ") || "node:"}`);
  }
  for (const name of STATIC_FILES) {
    await copyFile(join(SOURCE_DIR, name), join(outDir, name));
  }
  return ["app.js", "app.js.map", ...STATIC_FILES].map((name) => join(outDir, name));
}
