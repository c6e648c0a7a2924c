import { applyD1Migrations, env } from "cloudflare:test";
import m1 from "../../src/d1/migrations/0001_sessions.sql?raw";
import m2 from "../../src/d1/migrations/0002_usage.sql?raw";
import m3 from "../../src/d1/migrations/0003_filters.sql?raw";
import m4 from "../../src/d1/migrations/0004_usage_per_run.sql?raw";
import { migrationStatements } from "../../src/d1/migrations.ts";

/** The index migrations, read from the same SQL files `wrangler d1 migrations apply` uses. */
export const MIGRATIONS = [
  ["0001_sessions.sql", m1],
  ["0002_usage.sql", m2],
  ["0003_filters.sql", m3],
  ["0004_usage_per_run.sql", m4],
].map(([name, sql]) => ({ name: name as string, queries: migrationStatements(sql as string) }));

/** Drops every table, the migrations table included: an empty database. */
export async function resetIndexDb(db: D1Database = env.INDEX_DB): Promise<void> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .all<{ name: string }>();
  for (const { name } of results) await db.prepare(`DROP TABLE IF EXISTS "${name}"`).run();
}

export async function migrateIndexDb(upTo = MIGRATIONS.length): Promise<void> {
  await applyD1Migrations(env.INDEX_DB, MIGRATIONS.slice(0, upTo));
}

/** The schema as text, for comparing two databases. */
export async function schema(): Promise<string[]> {
  const { results } = await env.INDEX_DB.prepare(
    "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'da_%' ORDER BY type, name",
  ).all<{ type: string; name: string; sql: string }>();
  return results.map((r) => `${r.type} ${r.name}: ${r.sql}`);
}
