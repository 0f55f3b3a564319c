#!/usr/bin/env node
// The `jobs-cli` command: the compiled cli/main.ts (see start-built.js for why a file of its own).
import { startBuilt } from "./start-built.js";

await startBuilt("cli", "jobs-cli");
