import type { SqlPort } from "../../sql/port.ts";
import type { LedgerEvent } from "../events.ts";

/**
 * The compactions of the model's prompt (`context.compacted`), kept by the messages projection
 * beside the messages they summarize, so that both rebuild together from the ledger.
 *
 * Invariants:
 * 1. The active compaction is the newest one not dropped. Each summary covers everything the
 *    prompt sent before it (the previous summary included), so an older one stays a true
 *    summary of the messages up to its own `through_idx`.
 * 2. A compaction never summarizes a message the conversation no longer shows: when an event
 *    hides messages (a regenerate, a checkpoint rewind), every compaction whose range holds one
 *    of them is dropped, and the prompt falls back to the newest one still whole (or to the
 *    whole conversation). The ledger keeps the event; a fork copies the ledger's prefix, so it
 *    has only the compactions made before its checkpoint.
 */
export const COMPACTIONS_TABLE =
  "CREATE TABLE compactions (seq INTEGER PRIMARY KEY, through_idx INTEGER NOT NULL, summary TEXT NOT NULL, dropped INTEGER NOT NULL DEFAULT 0)";

/** The prompt's active compaction: its event's seq, the last message index it covers, its summary. */
export interface Compaction {
  readonly seq: number;
  readonly throughIndex: number;
  readonly summary: string;
}

export function recordCompaction(sql: SqlPort, event: LedgerEvent<"context.compacted">): void {
  sql.exec(
    "INSERT INTO compactions (seq, through_idx, summary) VALUES (?, ?, ?)",
    event.seq,
    event.data.throughIndex,
    event.data.summary,
  );
}

/**
 * Drops the compactions that cover a message hidden by the event `seq` (invariant 2): the rows
 * it hid carry its seq (messages.ts moves a hidden row to the hiding event's seq).
 */
export function dropCompactionsHiddenBy(sql: SqlPort, seq: number): void {
  sql.exec(
    `UPDATE compactions SET dropped = 1 WHERE dropped = 0
       AND through_idx >= (SELECT min(idx) FROM messages WHERE seq = ? AND hidden = 1)`,
    seq,
  );
}

/** The active compaction (invariant 1), or undefined: the prompt is the whole conversation. */
export function activeCompaction(sql: SqlPort): Compaction | undefined {
  const row = sql.exec<{ seq: number; through_idx: number; summary: string }>(
    "SELECT seq, through_idx, summary FROM compactions WHERE dropped = 0 ORDER BY seq DESC LIMIT 1",
  )[0];
  return row && { seq: row.seq, throughIndex: row.through_idx, summary: row.summary };
}
