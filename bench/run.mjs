#!/usr/bin/env node
// Bench dispatcher: `npm run bench -- <name>` runs bench/<name>.ts or bench/<name>.mjs
// with the Node that runs npm (Node 22 from node_modules/.bin).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SOURCE_CONDITION } from "../scripts/source-condition.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => /\.(ts|mjs)$/.test(f) && f !== "run.mjs" && !f.includes(".test."))
  .map((f) => f.replace(/\.(ts|mjs)$/, ""));

if (name === undefined) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none)"}`);
  process.exit(2);
}
const file = [`${name}.ts`, `${name}.mjs`].map((f) => join(here, f)).find((f) => existsSync(f));
if (file === undefined) {
  console.error(`no bench named "${name}"; available: ${available.join(", ")}`);
  process.exit(2);
}
// @durable-agents/* from their TypeScript sources (scripts/source-condition.mjs): no build first.
const sources = `--conditions=${SOURCE_CONDITION}`;
const args = file.endsWith(".ts")
  ? ["--experimental-strip-types", "--no-warnings", sources, file, ...rest]
  : [sources, file, ...rest];
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
