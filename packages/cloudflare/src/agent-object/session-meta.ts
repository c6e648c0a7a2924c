import { type Migration, migrate, type SqlPort } from "@durable-agents/core";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "session_meta",
    up: [
      "CREATE TABLE session_meta (id INTEGER PRIMARY KEY CHECK (id = 1), agent TEXT NOT NULL, session TEXT NOT NULL)",
    ],
  },
];

export interface SessionMeta {
  readonly agent: string;
  readonly session: string;
}

/**
 * Which agent and session this object is. Written on the first valid request,
 * read by the alarm, which has no URL to learn it from.
 */
export function readMeta(sql: SqlPort): SessionMeta | undefined {
  migrate(sql, "session_meta", MIGRATIONS);
  return sql.exec<{ agent: string; session: string }>(
    "SELECT agent, session FROM session_meta WHERE id = 1",
  )[0];
}

export function writeMeta(sql: SqlPort, meta: SessionMeta): void {
  migrate(sql, "session_meta", MIGRATIONS);
  sql.exec(
    "INSERT INTO session_meta (id, agent, session) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
    meta.agent,
    meta.session,
  );
}
