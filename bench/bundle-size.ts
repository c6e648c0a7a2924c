/**
 * `npm run bench -- bundle-size`: what durable-agents costs a Worker's upload. Bundles, with
 * `wrangler deploy --dry-run` from this checkout's sources (scripts/wrangler-bundle.mjs), once
 * as wrangler's defaults build them and once with `--minify` (what `"minify": true` in
 * wrangler.jsonc does):
 * - the README's agent (examples/readme, with @ai-sdk/openai), and the same with the wrangler
 *   `alias` that keeps zod's locales out (bench/bundle/readme-alias);
 * - the minimal agent Worker (bench/bundle/minimal-worker.ts: scripted model, no provider),
 *   the same with one defineTool tool (bench/bundle/tool-worker.ts: the tool-schema path),
 *   with the D1 index and cron schedules on (bench/bundle/indexed-worker.ts), driven by
 *   Workflows (bench/bundle/workflow-worker.ts: the Workflow executor's side), and traced
 *   (bench/bundle-otel).
 * It prints wrangler's own "Total Upload" figures (raw and gzip, KiB), how many zod locale
 * modules each bundle carries (zod 4 has 64; the runtime imports only English), whether it
 * carries classic zod's schemas (`zod/v4/classic/schemas.js`: every method of every schema,
 * which no bundler can shake; the runtime itself uses `zod/mini`), and how many modules of
 * each optional part (OpenTelemetry, the D1 index, croner, the run tracer, the Workflow
 * executor's side): each is in only
 * when the Worker imports its entry point. Then, from esbuild's metafile, where the minimal
 * Worker's bytes are: by package and folder, zod's and the AI SDK's modules one by one, and
 * our own largest files. Figures and the
 * before/after are in docs/benchmarks.md.
 *
 * `npm run bench -- bundle-size --only minimal` bundles the minimal Worker alone.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ownerOf, WORKFLOW_EXECUTOR, wranglerBundle } from "../scripts/wrangler-bundle.mjs";

const root = resolve(import.meta.dirname, "..");
const only = process.argv.includes("--only")
  ? process.argv[process.argv.indexOf("--only") + 1]
  : undefined;

const workers = [
  { name: "README agent (examples/readme)", dir: join(root, "examples/readme") },
  {
    name: "README agent + zod locale alias (bench/bundle/readme-alias)",
    dir: join(root, "bench/bundle/readme-alias"),
  },
  { key: "minimal", name: "minimal agent Worker (bench/bundle)", dir: join(root, "bench/bundle") },
  {
    name: "minimal agent Worker + one defineTool tool (bench/bundle/tool-worker.ts)",
    dir: join(root, "bench/bundle"),
    main: "tool-worker.ts",
  },
  {
    name: "minimal agent Worker + D1 index + cron (bench/bundle/indexed-worker.ts)",
    dir: join(root, "bench/bundle"),
    main: "indexed-worker.ts",
  },
  {
    name: "minimal agent Worker on Workflows (bench/bundle/workflow-worker.ts)",
    dir: join(root, "bench/bundle"),
    main: "workflow-worker.ts",
  },
  {
    name: "minimal agent Worker, traced (bench/bundle-otel)",
    dir: join(root, "bench/bundle-otel"),
  },
]
  .filter((w) => only === undefined || w.key === only)
  // A checkout from before a Worker was added (a before/after run on an older tree) skips it.
  .filter((w) => w.main === undefined || existsSync(join(w.dir, w.main)));

/** The optional parts, by metafile input path. */
const PARTS = {
  OpenTelemetry: /node_modules\/@opentelemetry\//,
  "D1 index": /packages\/cloudflare\/src\/d1\/(?!index-port\.ts)/,
  croner: /node_modules\/croner\//,
  "run tracer": /packages\/core\/src\/tracing\/(?!trace-sink\.ts)/,
  "Workflow executor": WORKFLOW_EXECUTOR,
};

console.log(
  `| Worker | raw KiB | gzip KiB | minified raw KiB | minified gzip KiB | zod locales | classic zod | ${Object.keys(PARTS).join(" | ")} |`,
);
console.log(`|${" --- |".repeat(7 + Object.keys(PARTS).length)}`);
let minimal: Record<string, number> | undefined;
for (const worker of workers) {
  const plain = wranglerBundle(worker.dir, { main: worker.main });
  const minified = wranglerBundle(worker.dir, { main: worker.main, minify: true });
  // Modules that put bytes in the bundle (a barrel that only re-exports puts none).
  const paths = Object.keys(plain.inputs).filter((p) => (plain.inputs[p] ?? 0) > 0);
  const locales = paths.filter((p) => /zod\/v4\/locales\/(?!index)[A-Za-z-]+\.js$/.test(p)).length;
  const classic = paths.some((p) => p.endsWith("zod/v4/classic/schemas.js")) ? "yes" : "no";
  const parts = Object.values(PARTS).map((re) => paths.filter((p) => re.test(p)).length);
  console.log(
    `| ${worker.name} | ${plain.raw} | ${plain.gzip} | ${minified.raw} | ${minified.gzip} | ${locales} | ${classic} | ${parts.join(" | ")} |`,
  );
  if (worker.key === "minimal") minimal = plain.inputs;
}

if (minimal) {
  const kib = (bytes: number) => (bytes / 1024).toFixed(1);
  const total = Object.values(minimal).reduce((a, b) => a + b, 0);
  const byOwner = new Map<string, number>();
  for (const [path, bytes] of Object.entries(minimal))
    byOwner.set(ownerOf(path), (byOwner.get(ownerOf(path)) ?? 0) + bytes);
  console.log(
    `\nThe minimal Worker by package and folder (esbuild metafile, unminified, bytesInOutput): ${kib(total)} KiB in all`,
  );
  console.log("| what | KiB |\n| --- | --- |");
  for (const [owner, bytes] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`| ${owner} | ${kib(bytes)} |`);
  const libraries = Object.entries(minimal).filter(
    ([p, bytes]) => /node_modules\/(zod|@ai-sdk)\//.test(p) && bytes > 0,
  );
  console.log("\nOf it, zod's and the AI SDK's modules:");
  console.log("| module | KiB |\n| --- | --- |");
  for (const [path, bytes] of libraries.sort((a, b) => b[1] - a[1]))
    console.log(`| ${path.replace(/^.*node_modules\//, "")} | ${kib(bytes)} |`);
  const ours = Object.entries(minimal).filter(([p]) => p.includes("packages/"));
  console.log(
    `\nOur own code: ${kib(ours.reduce((a, [, b]) => a + b, 0))} KiB in ${ours.length} files; the largest:`,
  );
  console.log("| file | KiB |\n| --- | --- |");
  for (const [path, bytes] of ours.sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`| ${path.replace(/^.*packages\//, "")} | ${kib(bytes)} |`);
}
