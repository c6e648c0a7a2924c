/**
 * The D1 index's migrations, applied from code (runMigrations) or by wrangler
 * (`wrangler d1 migrations apply`, `migrations_dir` = this package's `src/d1/migrations`).
 *
 * Invariants:
 * 1. INDEX_MIGRATIONS is the SQL files in `migrations/`, byte for byte, in order
 *    (test/store-migrations.test.ts fails on any difference): a new migration is a new file
 *    and a new entry here, never an edit of an applied one.
 * 2. Applied migrations are recorded in wrangler's own table, `d1_migrations` (id, name,
 *    applied_at), so wrangler, `applyD1Migrations` in tests and runMigrations each see what
 *    the others applied and never apply a file twice.
 * 3. Each migration and its record commit together (one D1 batch is one transaction).
 */
import { TerminalError } from "@durable-agents/core";

/** One migration: its file name (the record in `d1_migrations`) and its SQL. */
export interface IndexMigration {
  readonly name: string;
  readonly sql: string;
}

/** Every migration of the index, oldest first. */
export const INDEX_MIGRATIONS: readonly IndexMigration[] = [
  {
    name: "0001_sessions.sql",
    sql: `-- durable-agents index v1: one row per session, with its latest status.
CREATE TABLE da_sessions (
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  status TEXT NOT NULL,
  run_id TEXT,
  user TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (agent, session)
);
CREATE INDEX da_sessions_by_created ON da_sessions (created_at DESC, agent, session);
CREATE TABLE da_session_tags (
  tag TEXT NOT NULL,
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  PRIMARY KEY (tag, agent, session)
);
`,
  },
  {
    name: "0002_usage.sql",
    sql: `-- durable-agents index v2: one usage entry per ledger event, keyed by its seq (idempotent).
CREATE TABLE da_usage (
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  seq INTEGER NOT NULL,
  day TEXT NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  value REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (agent, session, seq)
);
CREATE INDEX da_usage_by_day ON da_usage (day, agent, kind, name);
`,
  },
  {
    name: "0003_filters.sql",
    sql: `-- durable-agents index v3: filters for listing by user and status, and retention by time.
CREATE INDEX da_sessions_by_user ON da_sessions (user, created_at DESC);
CREATE INDEX da_sessions_by_status ON da_sessions (status, created_at DESC);
CREATE INDEX da_usage_by_ts ON da_usage (ts);
`,
  },
  {
    name: "0004_usage_per_run.sql",
    sql: `-- durable-agents index v4: one usage entry per run, kind and name (keyed by its first seq), with how many calls it counts; sessions by updated_at for bounded retention.
ALTER TABLE da_usage ADD COLUMN calls INTEGER NOT NULL DEFAULT 1;
ALTER TABLE da_usage ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE da_usage SET last_seq = seq;
CREATE INDEX da_sessions_by_updated ON da_sessions (updated_at);
`,
  },
];

/** The index schema version this package needs: the number of its latest migration. */
export const INDEX_SCHEMA_VERSION = INDEX_MIGRATIONS.length;

const TABLE =
  "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)";

/** The statements of one migration file (comments dropped; no `;` inside a string). */
export function migrationStatements(sql: string): string[] {
  return sql
    .replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function appliedNames(db: D1Database): Promise<Set<string>> {
  await db.prepare(TABLE).run();
  const { results } = await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
  return new Set(results.map((r) => r.name));
}

/** The index migrations not yet applied to `db`, oldest first. */
export async function pendingMigrations(db: D1Database): Promise<IndexMigration[]> {
  const applied = await appliedNames(db);
  return INDEX_MIGRATIONS.filter((m) => !applied.has(m.name));
}

/**
 * The schema version of `db`: how many of INDEX_MIGRATIONS are applied, counted from the
 * first (0 on an empty database; INDEX_SCHEMA_VERSION when it is up to date).
 */
export async function migrationVersion(db: D1Database): Promise<number> {
  const applied = await appliedNames(db);
  const gap = INDEX_MIGRATIONS.findIndex((m) => !applied.has(m.name));
  return gap === -1 ? INDEX_MIGRATIONS.length : gap;
}

/**
 * Applies the migrations `db` lacks, in order, each in one batch with its record. Safe to
 * call concurrently and repeatedly: a migration another caller applied meanwhile is
 * skipped. Resolves to the names it applied.
 * @throws TerminalError `index_migration_failed` (with the D1 error as `cause`) when a
 * migration fails for another reason; the ones before it stay applied.
 */
export async function runMigrations(db: D1Database): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of await pendingMigrations(db)) {
    try {
      await db.batch([
        ...migrationStatements(migration.sql).map((s) => db.prepare(s)),
        db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(migration.name),
      ]);
      applied.push(migration.name);
    } catch (error) {
      // A concurrent caller got there first: its batch and record committed together.
      if ((await appliedNames(db)).has(migration.name)) continue;
      throw new TerminalError(
        "index_migration_failed",
        `D1 index migration ${migration.name} failed: ${error instanceof Error ? error.message : String(error)}; the migrations before it are applied`,
        { cause: error, details: { migration: migration.name } },
      );
    }
  }
  return applied;
}
