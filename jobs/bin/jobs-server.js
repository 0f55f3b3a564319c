#!/usr/bin/env node
// The `jobs-server` command: the compiled server/main.ts (see start-built.js for why a file of its own).
import { startBuilt } from "./start-built.js";

await startBuilt("server", "jobs-server");
