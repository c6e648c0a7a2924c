import {
  ACTIVE,
  type LedgerEvent,
  latestRun,
  ledgerStartedAt,
  type OutboxMessage,
  outboxProjection,
  type Projection,
  RUN_STATUS_AFTER,
  type SessionStatus,
  type SqlPort,
  spentUsageOf,
  type UsageKind,
} from "@durable-agents/core";

/**
 * What a session tells the D1 index, as outbox messages:
 * - topic `session`, key `session`: its latest status (one pending row at most);
 *   a run that ends or waits flushes the session's batch at once;
 * - topic `session`, key `listed`: sent with a usage fact while no run is active
 *   (`POST .../usage` before any run or after the last one ended), so a session that records usage is a session the index lists: its current status
 *   (`idle` before any run) at seq 0, which writes the row where it is missing (never
 *   indexed, or deleted by retention) and never changes one that exists (retention keeps
 *   a row while it keeps usage of its session, applyRetention);
 * - topic `usage`, key = the seq of the run's first usage fact for that
 *   (kind, name): one usage entry per run, kind and name, carrying the run's
 *   running totals (`calls`, tokens, value, up to `lastSeq`). A usage fact
 *   outside a run is its own entry. Only what the session spent (`spentUsageOf`):
 *   a fork's copied prefix sends its statuses (the fork is listed) but no usage,
 *   which its source already sent, on append and on every rebuild alike.
 */
export interface SessionMessage {
  readonly status: SessionStatus;
  readonly runId: string | null;
  readonly seq: number;
  readonly ts: number;
  /**
   * When the session began (`ledgerStartedAt`): its row's `created_at` wherever it is written,
   * in a new shard after a move or again after retention deleted it. Absent from messages
   * enqueued before it was carried; D1 then takes `ts`.
   */
  readonly createdAt?: number;
  readonly user: string | null;
  readonly tags: readonly string[];
}

export interface UsageMessage {
  /** The seq of the first usage fact this entry counts: the entry's key in D1. */
  readonly seq: number;
  /** The seq of the latest usage fact counted; D1 keeps the entry with the highest. */
  readonly lastSeq: number;
  /** How many usage facts (model calls, tool calls, ...) the entry counts. */
  readonly calls: number;
  readonly ts: number;
  readonly kind: UsageKind;
  readonly name: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly value: number;
}

/** Statuses at which a run stops moving: its batch is delivered at once (flush). */
const SETTLED = new Set(["waiting", "completed", "failed", "interrupted", "aborted"]);

const IDENTITY_TABLE =
  "CREATE TABLE IF NOT EXISTS index_identity (id INTEGER PRIMARY KEY CHECK (id = 1), user TEXT, tags TEXT NOT NULL)";

/** Bump to re-send everything (receivers are idempotent). */
const VERSION = 1;

/**
 * How long (ms) a session's index messages wait before their delivery starts,
 * so the steps of a run share one D1 batch; a run that ends or waits flushes
 * at once. Delivery then runs in the background (OutboxDelivery): it never
 * holds the run.
 */
export const INDEX_DELAY_MS = 2_000;

/** The projection that turns a session's ledger into index messages (its outbox). */
export function indexProjection(delayMs = INDEX_DELAY_MS): Projection {
  const base = outboxProjection("d1_index", VERSION, toMessages, { delayMs });
  // A rebuild replays the ledger: the run totals start again from zero.
  return { ...base, drop: [...base.drop, "DROP TABLE IF EXISTS index_run_usage"] };
}

function toMessages(event: LedgerEvent, sql: SqlPort, copied: boolean): OutboxMessage[] {
  // Seq 1 is the ledger's start (again, on a rebuild or after a first append rolled back).
  if (event.seq === 1) startedAts.delete(sql);
  const status = RUN_STATUS_AFTER[event.kind];
  if (status) {
    const identity = readIdentity(sql);
    const payload: SessionMessage = {
      status,
      runId: event.runId,
      seq: event.seq,
      ts: event.ts,
      createdAt: startedAt(sql, event),
      ...identity,
    };
    return [{ topic: "session", key: "session", payload, flush: SETTLED.has(status) }];
  }
  const usage = usageOf(event, copied);
  if (!usage) return [];
  const entry = event.runId === null ? usage : addToRun(sql, event.runId, usage);
  const messages: OutboxMessage[] = [{ topic: "usage", key: String(entry.seq), payload: entry }];
  const run = latestRun(sql);
  if (run && ACTIVE.has(run.status)) return messages;
  // No run is active (`POST .../usage` before any run or after the last one ended), so no
  // status event lists the session: say it exists (seq 0: its row is inserted, never changed).
  const listed: SessionMessage = {
    status: run?.status ?? "idle",
    runId: run?.runId ?? null,
    seq: 0,
    ts: event.ts,
    createdAt: startedAt(sql, event),
    ...readIdentity(sql),
  };
  return [...messages, { topic: "session", key: "listed", payload: listed }];
}

/** When each object's session began, by its SQL port: see startedAt. */
const startedAts = new WeakMap<SqlPort, number>();

/**
 * When the session began (`ledgerStartedAt`, a SELECT), read once per object: it never changes
 * once the ledger's first event is stored, and a fork's copy time is written before its copied
 * events, in the same transaction. So a value read in an append that rolls back is dropped
 * with it: the next append starts at seq 1 again, where toMessages forgets it. Never cached
 * while unknown (the ledger empty): the event's own time stands in.
 */
function startedAt(sql: SqlPort, event: LedgerEvent): number {
  const known = startedAts.get(sql);
  if (known !== undefined) return known;
  const read = ledgerStartedAt(sql);
  if (read === undefined) return event.ts;
  startedAts.set(sql, read);
  return read;
}

const RUN_USAGE_TABLE =
  "CREATE TABLE IF NOT EXISTS index_run_usage (run_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, ts INTEGER NOT NULL, calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (run_id, kind, name))";

/** Adds one usage fact to its run's entry (kept in the session's SQLite) and returns the new totals. */
function addToRun(sql: SqlPort, runId: string, u: UsageMessage): UsageMessage {
  sql.exec(RUN_USAGE_TABLE);
  const row = sql.exec<{
    seq: number;
    ts: number;
    calls: number;
    input_tokens: number;
    output_tokens: number;
    value: number;
  }>(
    "INSERT INTO index_run_usage (run_id, kind, name, seq, last_seq, ts, calls, input_tokens, output_tokens, value) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (run_id, kind, name) DO UPDATE SET last_seq = excluded.last_seq, calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, value = value + excluded.value RETURNING seq, ts, calls, input_tokens, output_tokens, value",
    runId,
    u.kind,
    u.name,
    u.seq,
    u.seq,
    u.ts,
    u.inputTokens,
    u.outputTokens,
    u.value,
  )[0];
  if (!row) return u;
  return {
    ...u,
    seq: row.seq,
    ts: row.ts,
    calls: row.calls,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    value: row.value,
  };
}

/** The usage the event spent (core's one rule, spentUsageOf) as an index entry of its own. */
function usageOf(event: LedgerEvent, copied: boolean): UsageMessage | undefined {
  const fact = spentUsageOf(event, copied);
  if (!fact) return undefined;
  return {
    seq: event.seq,
    lastSeq: event.seq,
    calls: 1,
    ts: event.ts,
    kind: fact.kind,
    name: fact.name,
    inputTokens: fact.inputTokens,
    outputTokens: fact.outputTokens,
    value: fact.value,
  };
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
