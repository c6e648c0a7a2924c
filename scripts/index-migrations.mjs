// Applies the D1 index's migrations to every shard a wrangler config binds, locally:
// `wrangler d1 migrations apply <database_name> --local` once per d1_databases entry whose
// migrations_dir is the index's (packages/cloudflare/src/d1/migrations), so an index spread
// over INDEX_DB, INDEX_DB_1, … gets its tables in each. Used by the quickstart's `npm start`
// and the e2e setup. Migrations already applied are skipped by wrangler.
import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "jsonc-parser";

const INDEX_MIGRATIONS = realpathSync(
  join(dirname(fileURLToPath(import.meta.url)), "../packages/cloudflare/src/d1/migrations"),
);

/** The d1_databases entries of a wrangler.jsonc that hold the index (by their migrations_dir). */
export function indexDatabases(configPath) {
  const config = parse(readFileSync(configPath, "utf8"));
  return (config.d1_databases ?? []).filter((db) => {
    if (!db.migrations_dir) return false;
    try {
      return realpathSync(resolve(dirname(configPath), db.migrations_dir)) === INDEX_MIGRATIONS;
    } catch {
      return false;
    }
  });
}

/**
 * Migrates each index shard of `cwd`/wrangler.jsonc with `wrangler d1 migrations apply
 * --local` (plus `args`, e.g. --persist-to). Returns the shards' bindings.
 * @throws Error naming the shard and wrangler's output when one fails.
 */
export function applyIndexMigrations({ cwd, args = [], env = process.env }) {
  const wrangler = join(
    dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
    "bin",
    "wrangler.js",
  );
  const shards = indexDatabases(join(cwd, "wrangler.jsonc"));
  for (const db of shards) {
    const command = ["d1", "migrations", "apply", db.database_name, "--local", ...args];
    const result = spawnSync(process.execPath, [wrangler, ...command], {
      cwd,
      encoding: "utf8",
      env: { ...env, CI: "1", WRANGLER_SEND_METRICS: "false" },
    });
    if (result.status !== 0)
      throw new Error(
        `could not apply the D1 index migrations to ${db.binding} (wrangler ${command.join(" ")}):\n${(result.stderr || result.stdout || "").trim()}`,
      );
  }
  return shards.map((db) => db.binding);
}
