import type { PendingMessage } from "@durable-agents/core";
import type { SessionMessage, UsageMessage } from "./index-messages.ts";

/**
 * Writes outbox messages of one session to D1, in one batch (one transaction).
 * Idempotent: usage entries are keyed by (agent, session, seq) and inserted
 * with OR IGNORE; a session row only moves forward (`last_seq`). Delivering
 * the same batch twice changes nothing.
 */
export function d1Deliverer(db: D1Database, agent: string, session: string) {
  return async (messages: readonly PendingMessage[]): Promise<void> => {
    const statements: D1PreparedStatement[] = [];
    for (const message of messages) {
      if (message.topic === "session")
        statements.push(
          ...sessionStatements(db, agent, session, message.payload as SessionMessage),
        );
      else if (message.topic === "usage")
        statements.push(usageStatement(db, agent, session, message.payload as UsageMessage));
    }
    if (statements.length > 0) await db.batch(statements);
  };
}

function sessionStatements(
  db: D1Database,
  agent: string,
  session: string,
  m: SessionMessage,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        "INSERT INTO da_sessions (agent, session, status, run_id, user, created_at, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent, session) DO UPDATE SET status = excluded.status, run_id = excluded.run_id, user = coalesce(excluded.user, da_sessions.user), updated_at = excluded.updated_at, last_seq = excluded.last_seq WHERE excluded.last_seq > da_sessions.last_seq",
      )
      .bind(agent, session, m.status, m.runId, m.user, m.ts, m.ts, m.seq),
    db.prepare("DELETE FROM da_session_tags WHERE agent = ? AND session = ?").bind(agent, session),
    ...m.tags.map((tag) =>
      db
        .prepare("INSERT OR IGNORE INTO da_session_tags (tag, agent, session) VALUES (?, ?, ?)")
        .bind(tag, agent, session),
    ),
  ];
}

function usageStatement(db: D1Database, agent: string, session: string, m: UsageMessage) {
  return db
    .prepare(
      "INSERT OR IGNORE INTO da_usage (agent, session, seq, day, ts, kind, name, input_tokens, output_tokens, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      agent,
      session,
      m.seq,
      new Date(m.ts).toISOString().slice(0, 10),
      m.ts,
      m.kind,
      m.name,
      m.inputTokens,
      m.outputTokens,
      m.value,
    );
}
