// One `wrangler deploy --dry-run` of a Worker, as `npm run bench -- bundle-size` and the bundle
// tests measure it: wrangler's own "Total Upload" figures, the bundle's code and esbuild's
// metafile (wrangler's `--metafile`), built from this checkout's sources (the source
// condition, scripts/source-condition.mjs) unless `fromSources` is false.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { wranglerSourceEnv } from "./source-condition.mjs";

const wrangler = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/**
 * @param {string} dir the Worker's directory (its wrangler.jsonc)
 * @param {{ minify?: boolean, main?: string, fromSources?: boolean }} [options]
 */
export function wranglerBundle(dir, { minify = false, main, fromSources = true } = {}) {
  const out = mkdtempSync(join(tmpdir(), "wrangler-bundle-"));
  const metafile = join(out, "meta.json");
  try {
    const args = [wrangler, "deploy", "--dry-run", "--outdir", out, "--metafile", metafile];
    // Explicit either way: a wrangler.jsonc with "minify": true would otherwise minify both.
    args.push(minify ? "--minify" : "--minify=false");
    if (main !== undefined) args.push(main);
    const run = spawnSync(process.execPath, args, {
      cwd: dir,
      encoding: "utf8",
      env: {
        ...process.env,
        ...(fromSources ? wranglerSourceEnv : {}),
        WRANGLER_SEND_METRICS: "false",
        CI: "1",
      },
    });
    const upload = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(run.stdout);
    if (run.status !== 0 || upload === null)
      throw new Error(`wrangler failed in ${dir}:\n${run.stdout}\n${run.stderr}`);
    const bundle = readdirSync(out).find((f) => f.endsWith(".js"));
    if (bundle === undefined) throw new Error(`no .js bundle in ${out}`);
    const meta = JSON.parse(readFileSync(metafile, "utf8"));
    const output = Object.entries(meta.outputs).find(([path]) => path.endsWith(".js"));
    if (output === undefined) throw new Error(`no .js output in ${metafile}`);
    return {
      raw: Number(upload[1]),
      gzip: Number(upload[2]),
      code: readFileSync(join(out, bundle), "utf8"),
      inputs: Object.fromEntries(
        Object.entries(output[1].inputs).map(([path, { bytesInOutput }]) => [path, bytesInOutput]),
      ),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * The Workflow executors' sides, by metafile input path: of whole runs (core's
 * workflow-run/host.ts, instances.ts, executor.ts; cloudflare's workflows/agent-workflow-port.ts),
 * in a Worker only when it calls createAgentWorkflow; of `executor: "workflow"` tools (core's
 * workflow-check.ts; cloudflare's workflows/workflow-port.ts), only when it calls
 * createToolWorkflow (bench/bundle-size.ts, test/e2e's and the consumer's bundle tests).
 */
export const WORKFLOW_EXECUTOR =
  /(?:core\/(?:src|dist)\/agent\/(?:workflow-run\/(?:host|instances|executor)|workflow-check)|cloudflare\/(?:src|dist)\/workflows\/(?:agent-workflow-port|workflow-port))\.(?:ts|js)$/;

/**
 * What a metafile input path belongs to: `@durable-agents/<package>/<folder>` for this repo's
 * sources (or an installed package's dist/), else the npm package after the last node_modules/.
 * @param {string} path
 */
export function ownerOf(path) {
  const ours =
    /(?:packages\/|@durable-agents\/)(core|cloudflare|client)\/(?:src|dist)\/([^/]+)/.exec(path);
  if (ours) {
    const folder = ours[2]?.replace(/\.(ts|js)$/, "");
    return `@durable-agents/${ours[1]}/${folder}`;
  }
  const module = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return module?.[1] ?? path;
}
