/**
 * `npm run bench -- bundle-size`: what durable-agents costs a Worker's upload. Bundles the
 * README's agent (examples/readme, with @ai-sdk/openai), the same with the wrangler `alias`
 * that keeps zod's locales out (bench/bundle/readme-alias), the minimal agent Worker
 * (bench/bundle: scripted model, no provider) and the same traced (bench/bundle-otel) with
 * `wrangler deploy --dry-run --outdir`, from this checkout's sources, once as wrangler's
 * defaults build them and once with `--minify` (what `"minify": true` in wrangler.jsonc does),
 * and prints wrangler's own "Total Upload" figures (raw and gzip, KiB), how many zod locale
 * modules each bundle carries (zod 4 has 64; the English one is the only one the runtime
 * imports), whether it carries classic zod's schemas (`zod/v4/classic/schemas.js`: every
 * method of every schema, which no bundler can shake; the runtime itself uses `zod/mini`)
 * and how many OpenTelemetry modules (none unless the Worker imports
 * `@durable-agents/cloudflare/otel`; bench/bundle-otel does). Figures and the before/after are in docs/benchmarks.md.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { wranglerSourceEnv } from "../scripts/source-condition.mjs";

const root = resolve(import.meta.dirname, "..");
const wrangler = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

const workers = [
  { name: "README agent (examples/readme)", dir: join(root, "examples/readme") },
  {
    name: "README agent + zod locale alias (bench/bundle/readme-alias)",
    dir: join(root, "bench/bundle/readme-alias"),
  },
  { name: "minimal agent Worker (bench/bundle)", dir: join(root, "bench/bundle") },
  {
    name: "minimal agent Worker, traced (bench/bundle-otel)",
    dir: join(root, "bench/bundle-otel"),
  },
];

console.log(
  "| Worker | raw KiB | gzip KiB | minified raw KiB | minified gzip KiB | zod locales | classic zod | OpenTelemetry modules |",
);
console.log(
  "| ------ | ------- | -------- | ---------------- | ----------------- | ----------- | ----------- | --------------------- |",
);
for (const worker of workers) {
  const plain = bundle(worker.dir, []);
  const minified = bundle(worker.dir, ["--minify"]);
  const { code } = plain;
  const locales = new Set(code.match(/zod\/v4\/locales\/(?!index)[A-Za-z-]+\.js/g)).size;
  const classic = code.includes("node_modules/zod/v4/classic/schemas.js") ? "yes" : "no";
  // esbuild marks each bundled module with a `// node_modules/<path>` comment.
  const otel = new Set(code.match(/\/\/ [^\n]*node_modules\/@opentelemetry\/[^\n]+/g)).size;
  console.log(
    `| ${worker.name} | ${plain.raw} | ${plain.gzip} | ${minified.raw} | ${minified.gzip} | ${locales} | ${classic} | ${otel} |`,
  );
}

/** One `wrangler deploy --dry-run` of the Worker in `dir`: its upload figures and its code. */
function bundle(dir: string, flags: string[]): { raw: string; gzip: string; code: string } {
  const out = mkdtempSync(join(tmpdir(), "bundle-size-"));
  try {
    const run = spawnSync(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--outdir", out, ...flags],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, ...wranglerSourceEnv, WRANGLER_SEND_METRICS: "false", CI: "1" },
      },
    );
    const upload = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(run.stdout);
    if (run.status !== 0 || upload === null)
      throw new Error(`wrangler failed in ${dir}:\n${run.stdout}\n${run.stderr}`);
    const main = readdirSync(out).find((f) => f.endsWith(".js"));
    if (main === undefined) throw new Error(`no .js bundle in ${out}`);
    return {
      raw: upload[1] ?? "",
      gzip: upload[2] ?? "",
      code: readFileSync(join(out, main), "utf8"),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
