// `npm run build` in a package (and its `prepack`): a clean dist/ of JavaScript and .d.ts from
// src/, with tsc and the package's tsconfig.build.json.
//
// Why tsc and not a bundler (tsdown): one .js and one .d.ts per source module is what a
// Worker's bundler (wrangler's esbuild) tree-shakes best, the declarations come from the
// compiler that type-checks them, and the repo already has it. Nothing to bundle: consumers
// bundle. Relative `.ts` imports are rewritten to `.js` (`rewriteRelativeImportExtensions`).
//
// The build resolves the other workspace packages through their published `types` condition
// (customConditions is emptied in tsconfig.build.json), so @durable-agents/cloudflare is
// compiled against core's dist/, as a consumer sees it: build core first (`npm run build`
// at the root does, in order).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";

rmSync("dist", { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
