#!/usr/bin/env node
// The `jobs-cli` command (package.json "bin"): runs cli/main.ts through tsx's loader, with the
// repository's tsconfig wherever it is started from.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
await import("./main.ts");
