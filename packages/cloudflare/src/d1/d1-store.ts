import type { PendingMessage } from "@durable-agents/core";
import type { SessionMessage, UsageMessage } from "./index-messages.ts";

/**
 * Writes outbox messages of one session to D1, in one batch (one transaction),
 * and resolves to the number of statements sent. Idempotent: a usage entry is
 * keyed by (agent, session, seq) and only moves forward (`last_seq`), as does
 * a session row; tags are written only when they changed. Delivering the same
 * batch twice, or an older one after a newer, changes nothing.
 *
 * A row's `created_at` is the session's start (`SessionMessage.createdAt`), whichever
 * delivery inserts it (a move to another shard, a re-insert after retention); an update
 * only lowers it, which mends a row an older version wrote with its first delivery's time.
 *
 * Statements per batch: 3 for a session message (its row, removed tags, added
 * tags) and 1 per usage entry.
 */
export function d1Deliverer(db: D1Database, agent: string, session: string) {
  return async (messages: readonly PendingMessage[]): Promise<number> => {
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
    return statements.length;
  };
}

function sessionStatements(
  db: D1Database,
  agent: string,
  session: string,
  m: SessionMessage,
): D1PreparedStatement[] {
  const tags = JSON.stringify(m.tags);
  // Tags follow only a message at least as new as the row (an older redelivery leaves them).
  const current =
    "? >= coalesce((SELECT last_seq FROM da_sessions WHERE agent = ? AND session = ?), 0)";
  return [
    db
      .prepare(
        `DELETE FROM da_session_tags WHERE agent = ? AND session = ? AND tag NOT IN (SELECT value FROM json_each(?)) AND ${current}`,
      )
      .bind(agent, session, tags, m.seq, agent, session),
    db
      .prepare(
        `INSERT OR IGNORE INTO da_session_tags (tag, agent, session) SELECT value, ?, ? FROM json_each(?) WHERE ${current}`,
      )
      .bind(agent, session, tags, m.seq, agent, session),
    db
      .prepare(
        "INSERT INTO da_sessions (agent, session, status, run_id, user, created_at, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent, session) DO UPDATE SET status = excluded.status, run_id = excluded.run_id, user = coalesce(excluded.user, da_sessions.user), created_at = min(da_sessions.created_at, excluded.created_at), updated_at = excluded.updated_at, last_seq = excluded.last_seq WHERE excluded.last_seq > da_sessions.last_seq",
      )
      .bind(agent, session, m.status, m.runId, m.user, m.createdAt ?? m.ts, m.ts, m.seq),
  ];
}

function usageStatement(db: D1Database, agent: string, session: string, m: UsageMessage) {
  return db
    .prepare(
      "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name, input_tokens, output_tokens, value, calls, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent, session, seq) DO UPDATE SET input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, value = excluded.value, calls = excluded.calls, last_seq = excluded.last_seq WHERE excluded.last_seq > da_usage.last_seq",
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
      // Messages enqueued before index v4 count one fact each.
      m.calls ?? 1,
      m.lastSeq ?? m.seq,
    );
}

/**
 * Deletes a session's row and tags from a shard it no longer writes to (shards.ts,
 * invariant 4), in one batch; resolves to the statements sent (2). Idempotent.
 */
export async function d1ForgetSession(
  db: D1Database,
  agent: string,
  session: string,
): Promise<number> {
  await db.batch([
    db.prepare("DELETE FROM da_session_tags WHERE agent = ? AND session = ?").bind(agent, session),
    db.prepare("DELETE FROM da_sessions WHERE agent = ? AND session = ?").bind(agent, session),
  ]);
  return 2;
}
