import type { LedgerEvent } from "../ledger/events.ts";
import type { Projection } from "../ledger/projection.ts";
import type { SqlPort } from "../sql/port.ts";
import { DueWork } from "../triggers/due-work.ts";

/**
 * The outbox: messages for the world outside the object, written in the same
 * transaction as the ledger events they come from, delivered later by a
 * trigger kind through the due-work pump.
 *
 * Invariants:
 * 1. A message exists iff its event committed: the projection writes it inside
 *    the append's transaction, so a crash loses neither or both.
 * 2. Delivery is at least once. A message is deleted only after `deliver`
 *    resolved, and only if it was not replaced meanwhile (`rev`). Receivers
 *    must upsert idempotently by (topic, key).
 * 3. (topic, key) is unique: a newer message for the same key replaces a
 *    pending one (latest state wins), so a hot key costs one row.
 * 4. One due-work row (`OUTBOX_DELIVERY_KEY`) drains the outbox; enqueueing
 *    never cuts short a delivery that is backing off after failures (the
 *    delivery keeps its retry time in memory; a flush only moves the row).
 */
export const OUTBOX_KIND = "outbox.deliver";
export const OUTBOX_DELIVERY_KEY = "outbox:deliver";

export interface OutboxMessage {
  readonly topic: string;
  readonly key: string;
  readonly payload: unknown;
  /** Deliver now rather than after the projection's delay (e.g. a run ended); never cuts a backoff short. */
  readonly flush?: boolean;
}

export interface PendingMessage extends OutboxMessage {
  readonly id: number;
  readonly rev: number;
  readonly createdAt: number;
}

const CREATE = [
  "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, UNIQUE (topic, key))",
];

const works = new WeakMap<SqlPort, DueWork>();

/**
 * Writes one message and makes sure a delivery is due, `delayMs` after the
 * first undelivered message (messages committed meanwhile ride in the same
 * batch), or at once for a `flush` message. Call inside the append's transaction.
 */
export function enqueue(sql: SqlPort, message: OutboxMessage, now: number, delayMs = 0): void {
  sql.exec(
    "INSERT INTO outbox (topic, key, payload, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (topic, key) DO UPDATE SET payload = excluded.payload, rev = rev + 1",
    message.topic,
    message.key,
    JSON.stringify(message.payload),
    now,
  );
  let work = works.get(sql);
  if (!work) {
    work = new DueWork(sql);
    works.set(sql, work);
  }
  const due = work.get(OUTBOX_DELIVERY_KEY);
  if (!due)
    work.schedule(OUTBOX_KIND, OUTBOX_DELIVERY_KEY, {}, message.flush ? now : now + delayMs, now);
  // Moving the row earlier is safe during a backoff: OutboxDelivery keeps its retry time in memory.
  else if (message.flush && due.dueAt > now && due.leaseUntil === null)
    work.schedule(OUTBOX_KIND, OUTBOX_DELIVERY_KEY, {}, now, now);
}

/**
 * A projection that turns events into outbox messages. Its rebuild replays the
 * ledger and enqueues again, which idempotent receivers absorb; it never drops
 * the outbox table, so pending messages survive a rebuild.
 */
export function outboxProjection(
  name: string,
  version: number,
  /** `copied`: the event is copied history (a fork's prefix), as `Projection.apply` says. */
  toMessages: (event: LedgerEvent, sql: SqlPort, copied: boolean) => readonly OutboxMessage[],
  options: { readonly delayMs?: number } = {},
): Projection {
  return {
    name,
    version,
    create: CREATE,
    drop: [],
    apply(sql, event, copied) {
      for (const message of toMessages(event, sql, copied))
        enqueue(sql, message, event.ts, options.delayMs);
    },
  };
}

export function pendingMessages(sql: SqlPort, limit: number): PendingMessage[] {
  for (const statement of CREATE) sql.exec(statement);
  return sql
    .exec<{
      id: number;
      topic: string;
      key: string;
      payload: string;
      rev: number;
      created_at: number;
    }>("SELECT id, topic, key, payload, rev, created_at FROM outbox ORDER BY id LIMIT ?", limit)
    .map((row) => ({
      id: row.id,
      topic: row.topic,
      key: row.key,
      payload: JSON.parse(row.payload),
      rev: row.rev,
      createdAt: row.created_at,
    }));
}

/** Deletes delivered messages, unless a newer revision replaced one meanwhile. */
export function acknowledge(sql: SqlPort, delivered: readonly PendingMessage[]): void {
  sql.transaction(() => {
    for (const m of delivered) sql.exec("DELETE FROM outbox WHERE id = ? AND rev = ?", m.id, m.rev);
  });
}

export function outboxSize(sql: SqlPort): number {
  for (const statement of CREATE) sql.exec(statement);
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox")[0]?.n ?? 0;
}

/** The age (ms) of the oldest undelivered message, or 0 when the outbox is empty: how far the receiver lags. */
export function outboxLagMs(sql: SqlPort, now: number): number {
  for (const statement of CREATE) sql.exec(statement);
  const oldest = sql.exec<{ t: number | null }>("SELECT min(created_at) AS t FROM outbox")[0]?.t;
  return oldest == null ? 0 : Math.max(0, now - oldest);
}
