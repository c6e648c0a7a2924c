import type { SqlPort } from "./port.ts";

/** A forward-only schema step. `version` values are unique and increasing within a set. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: readonly string[];
}

/**
 * Applies the migrations of `set` that are newer than what the database has,
 * each in its own transaction with its version row. Running it twice is a no-op.
 */
export function migrate(sql: SqlPort, set: string, migrations: readonly Migration[]): number {
  sql.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (set_name TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (set_name, version))",
  );
  const row = sql.exec<{ v: number | null }>(
    "SELECT max(version) AS v FROM schema_migrations WHERE set_name = ?",
    set,
  )[0];
  const current = row?.v ?? 0;
  let applied = 0;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    sql.transaction(() => {
      for (const statement of migration.up) sql.exec(statement);
      sql.exec(
        "INSERT INTO schema_migrations (set_name, version, name) VALUES (?, ?, ?)",
        set,
        migration.version,
        migration.name,
      );
    });
    applied++;
  }
  return applied;
}
