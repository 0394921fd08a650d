#!/usr/bin/env node
// kubectl finds executables named kubectl-<plugin> on PATH, so `kubectl modelship ...` runs this.
// Requires Node >= 24: it imports the TypeScript sources directly (Node 24 strips the types).
import { runCli } from "../src/cli/main.ts";

process.exitCode = await runCli(process.argv.slice(2));
