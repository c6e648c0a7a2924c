/**
 * scripts/index-migrations.mjs (used by `npm start` and the e2e setup): every shard of the
 * D1 index that a wrangler config binds gets the index's migrations, and only those.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { applyIndexMigrations } from "../../scripts/index-migrations.mjs";
import { tempState } from "./e2e-support.ts";

const MIGRATIONS = resolve(import.meta.dirname, "../../packages/cloudflare/src/d1/migrations");
const WRANGLER = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
const cleanups: string[] = [];
afterEach(() => {
  for (const dir of cleanups.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tables(cwd: string, name: string, persistTo: string): string[] {
  const result = spawnSync(
    process.execPath,
    [
      WRANGLER,
      "d1",
      "execute",
      name,
      "--local",
      "--persist-to",
      persistTo,
      "--json",
      "--command",
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'da_%' ORDER BY name",
    ],
    { cwd, encoding: "utf8", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" } },
  );
  if (result.status !== 0) throw new Error(`${result.stdout}\n${result.stderr}`);
  const [first] = JSON.parse(result.stdout) as { results: { name: string }[] }[];
  return (first?.results ?? []).map((r) => r.name);
}

it("migrates each index shard of a wrangler config, and leaves other D1 databases alone", () => {
  const cwd = tempState("shards-config");
  const persistTo = join(cwd, "state");
  mkdirSync(join(cwd, "own-migrations"));
  cleanups.push(cwd);
  const shard = (binding: string, n: number) => ({
    binding,
    database_name: `index-${n}`,
    database_id: `00000000-0000-0000-0000-00000000000${n}`,
    migrations_dir: relative(cwd, MIGRATIONS),
  });
  writeFileSync(
    join(cwd, "wrangler.jsonc"),
    `// three index shards and one database of the app's own\n${JSON.stringify({
      name: "shards",
      main: "worker.js",
      compatibility_date: "2026-08-01",
      d1_databases: [
        shard("INDEX_DB", 0),
        shard("INDEX_DB_1", 1),
        shard("INDEX_DB_2", 2),
        {
          binding: "APP_DB",
          database_name: "app",
          database_id: "00000000-0000-0000-0000-000000000009",
          migrations_dir: "own-migrations",
        },
      ],
    })}`,
  );
  writeFileSync(join(cwd, "worker.js"), "export default { fetch: () => new Response('') };");
  expect(applyIndexMigrations({ cwd, args: ["--persist-to", persistTo] })).toEqual([
    "INDEX_DB",
    "INDEX_DB_1",
    "INDEX_DB_2",
  ]);
  for (const name of ["index-0", "index-1", "index-2"])
    expect(tables(cwd, name, persistTo)).toEqual(["da_session_tags", "da_sessions", "da_usage"]);
  expect(tables(cwd, "app", persistTo)).toEqual([]);
  // Again: already applied, nothing to do, no error.
  expect(applyIndexMigrations({ cwd, args: ["--persist-to", persistTo] })).toHaveLength(3);
}, 180_000);
