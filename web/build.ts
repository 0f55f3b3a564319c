// Builds the browser page into jobs/dist/web (npm run build:web); the server reads it from there.
import { relative } from "node:path";
import { buildPage } from "./build-page.js";

const files = await buildPage();
process.stdout.write(`built ${files.map((file) => relative(process.cwd(), file)).join(", ")}\n`);
