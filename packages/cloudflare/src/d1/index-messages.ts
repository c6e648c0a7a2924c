import {
  type LedgerEvent,
  type OutboxMessage,
  outboxProjection,
  type Projection,
  type SqlPort,
} from "@durable-agents/core";

/**
 * What a session tells the D1 index, as outbox messages:
 * - topic `session`, key `session`: its latest status (one pending row at most);
 * - topic `usage`, key = the event's seq: one usage entry per usage fact.
 */
export interface SessionMessage {
  readonly status: string;
  readonly runId: string | null;
  readonly seq: number;
  readonly ts: number;
  readonly user: string | null;
  readonly tags: readonly string[];
}

export interface UsageMessage {
  readonly seq: number;
  readonly ts: number;
  readonly kind: "model" | "tool" | "subagent" | "metric";
  readonly name: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly value: number;
}

const STATUS: Partial<Record<string, string>> = {
  "run.started": "running",
  "run.resumed": "running",
  "run.waiting": "waiting",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.interrupted": "interrupted",
  "run.aborted": "aborted",
};

const IDENTITY_TABLE =
  "CREATE TABLE IF NOT EXISTS index_identity (id INTEGER PRIMARY KEY CHECK (id = 1), user TEXT, tags TEXT NOT NULL)";

/** Bump to re-send everything (receivers are idempotent). */
const VERSION = 1;

/**
 * How long (ms) a session's index messages wait before their delivery starts,
 * so the steps of a short run share one D1 batch. Delivery then runs in the
 * background (OutboxDelivery): it never holds the run.
 */
export const INDEX_DELAY_MS = 1_000;

/** The projection that turns a session's ledger into index messages (its outbox). */
export function indexProjection(delayMs = INDEX_DELAY_MS): Projection {
  return outboxProjection("d1_index", VERSION, toMessages, { delayMs });
}

function toMessages(event: LedgerEvent, sql: SqlPort): OutboxMessage[] {
  const status = STATUS[event.kind];
  if (status) {
    const identity = readIdentity(sql);
    const payload: SessionMessage = {
      status,
      runId: event.runId,
      seq: event.seq,
      ts: event.ts,
      ...identity,
    };
    return [{ topic: "session", key: "session", payload }];
  }
  const usage = usageOf(event);
  return usage ? [{ topic: "usage", key: String(event.seq), payload: usage }] : [];
}

function usageOf(event: LedgerEvent): UsageMessage | undefined {
  const base = { seq: event.seq, ts: event.ts, inputTokens: 0, outputTokens: 0, value: 0 };
  switch (event.kind) {
    case "model.completed":
      return { ...base, kind: "model", name: event.data.model, ...event.data.usage };
    case "tool.completed":
      return { ...base, kind: "tool", name: event.data.name, value: 1 };
    case "tool.failed":
      return { ...base, kind: "tool", name: event.data.name, value: 1 };
    case "subagent.completed":
      return { ...base, kind: "subagent", name: event.data.agent, ...event.data.usage };
    case "usage.recorded":
      return { ...base, kind: "metric", name: event.data.metric, value: event.data.value };
    default:
      return undefined;
  }
}

/** Records who uses the session (from the auth identity), for the index's user and tag filters. */
export function recordIdentity(
  sql: SqlPort,
  identity: { user?: string; tags?: readonly string[] },
): void {
  if (identity.user === undefined && identity.tags === undefined) return;
  const current = readIdentity(sql);
  const user = identity.user ?? current.user;
  const tags = identity.tags ? [...identity.tags].sort() : current.tags;
  if (user === current.user && JSON.stringify(tags) === JSON.stringify(current.tags)) return;
  sql.exec(
    "INSERT INTO index_identity (id, user, tags) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET user = excluded.user, tags = excluded.tags",
    user,
    JSON.stringify(tags),
  );
}

function readIdentity(sql: SqlPort): { user: string | null; tags: string[] } {
  sql.exec(IDENTITY_TABLE);
  const row = sql.exec<{ user: string | null; tags: string }>(
    "SELECT user, tags FROM index_identity WHERE id = 1",
  )[0];
  return { user: row?.user ?? null, tags: row ? (JSON.parse(row.tags) as string[]) : [] };
}
