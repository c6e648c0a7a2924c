import type { UserFile } from "../../agent/user-files.ts";
import { TerminalError } from "../../errors/base.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { JsonValue } from "../events.ts";

/**
 * The messages projection as read (its writes: messages.ts): a row's message, with the text
 * its `model.delta`s streamed so far joined to its parts (`toMessage`), and the reads that
 * serve `GET .../messages`, AG-UI snapshots, chat history and the prompt caches. Hidden rows
 * read with no parts.
 */

/** A message part, as served by `GET .../messages` and used to build prompts. */
export type MessagePart =
  | { type: "text"; text: string }
  /** A file or image of a user message (the AI SDK UI's `FileUIPart`). */
  | UserFile
  | { type: "tool-call"; callId: string; name: string; args: JsonValue }
  | {
      type: "tool-result";
      callId: string;
      name: string;
      status: "pending" | "completed" | "failed" | "outcome_unknown";
      result?: JsonValue;
      error?: { code: string; message: string };
    };

type ToolResultPart = Extract<MessagePart, { type: "tool-result" }>;

/**
 * A tool result as its row stores it: a result that did not fit the row (messages.ts
 * `RESULTS_INLINE_BYTES`) keeps only the seq of the ledger event that holds it (`resultSeq`,
 * its `tool.completed` or `tool.failed`); `partsOf` puts the result back. Never served.
 */
export type StoredResult = ToolResultPart & { resultSeq?: number };

export type MessageRole = "user" | "assistant" | "tool";

export interface Message {
  readonly id: string;
  readonly index: number;
  readonly runId: string | null;
  readonly role: MessageRole;
  readonly parts: MessagePart[];
}

interface MessageRow {
  id: string;
  idx: number;
  run_id: string | null;
  role: MessageRole;
  parts: string;
  hidden: number;
  /** The text streamed into the row so far (`message_deltas`), or null. */
  streamed?: string | null;
}

/**
 * A message as read: its row, and the text its `model.delta`s appended, in ledger order
 * (only for a row that is streaming, so other rows cost no lookup).
 */
const COLUMNS =
  "id, idx, run_id, role, parts, hidden, CASE WHEN streaming = 1 THEN (SELECT group_concat(text, '' ORDER BY seq) FROM message_deltas d WHERE d.id = messages.id) END AS streamed";

/** A page of non-empty messages in conversation order, after the message with index `afterIndex`. */
export function listMessages(sql: SqlPort, afterIndex: number, limit: number): Message[] {
  return sql
    .exec<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE idx > ? AND parts != '[]' AND hidden = 0 ORDER BY idx LIMIT ?`,
      afterIndex,
      limit,
    )
    .map((row) => toMessage(sql, row));
}

const VISIBLE = "parts != '[]' AND hidden = 0";

/**
 * A page of non-empty messages in conversation order, the newest `limit` before the message
 * with index `beforeIndex` (`null`: the newest of all). Uses the `idx` primary order.
 */
export function listMessagesBefore(
  sql: SqlPort,
  beforeIndex: number | null,
  limit: number,
): Message[] {
  const rows =
    beforeIndex === null
      ? sql.exec<MessageRow>(
          `SELECT ${COLUMNS} FROM messages WHERE ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
          limit,
        )
      : sql.exec<MessageRow>(
          `SELECT ${COLUMNS} FROM messages WHERE idx < ? AND ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
          beforeIndex,
          limit,
        );
  return rows.map((row) => toMessage(sql, row)).reverse();
}

/**
 * The conversation as it stood after event `seq`, for AG-UI MESSAGES_SNAPSHOT: the newest
 * `limit` non-empty, visible messages that events up to `seq` created, in conversation order,
 * with their parts as they are now. Newest, not oldest: a long session keeps its recent turns.
 * Message indexes grow with `created_seq`, so the walk down the `idx` order skips only the
 * messages created after `seq` (none for a live stream).
 */
export function conversationAt(sql: SqlPort, seq: number, limit: number): Message[] {
  return sql
    .exec<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE created_seq <= ? AND ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
      seq,
      limit,
    )
    .map((row) => toMessage(sql, row))
    .reverse();
}

/**
 * Messages created or changed by events after `afterSeq` (empty ones included, so caches can
 * drop them). `ORDER BY +idx`: the unary plus keeps SQLite from walking the whole `idx` index
 * to avoid a sort; it searches `messages_by_seq` for the few changed rows and sorts those.
 * Measured at 10,000 messages: 2.7 ms per call with `ORDER BY idx`, 20 µs with `+idx`.
 */
export function changedMessages(sql: SqlPort, afterSeq: number): Message[] {
  return sql
    .exec<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE seq > ? ORDER BY +idx`, afterSeq)
    .map((row) => toMessage(sql, row));
}

/**
 * True when an event after `afterSeq` hid a message (a regenerate, a checkpoint rewind: a
 * hidden row carries the seq of the event that hid it). Searches `messages_by_seq` for the rows
 * changed since, as `changedMessages` does.
 */
export function hidSince(sql: SqlPort, afterSeq: number): boolean {
  return (
    sql.exec<{ one: number }>(
      "SELECT 1 AS one FROM messages WHERE seq > ? AND hidden = 1 LIMIT 1",
      afterSeq,
    ).length > 0
  );
}

/** The messages with these indexes (hidden ones with no parts), in conversation order. */
export function messagesAt(sql: SqlPort, indexes: readonly number[]): Message[] {
  if (indexes.length === 0) return [];
  return sql
    .exec<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE idx IN (SELECT value FROM json_each(?)) ORDER BY idx`,
      JSON.stringify(indexes),
    )
    .map((row) => toMessage(sql, row));
}

/**
 * The visible user messages of run `runId`: those its start and its resumes with a message
 * wrote (ids `m<seq>`, and the messages each handed in, `m<seq>.<i>`, user ones only), in
 * conversation order. Read by `messages_user_by_run`, so it costs the run's user rows, never its
 * events or the session's other messages.
 */
export function runUserMessages(sql: SqlPort, runId: string): Message[] {
  return sql
    .exec<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE run_id = ? AND role = 'user' AND ${VISIBLE} ORDER BY idx`,
      runId,
    )
    .map((row) => toMessage(sql, row));
}

function toMessage(sql: SqlPort, row: MessageRow): Message {
  return {
    id: row.id,
    index: row.idx,
    runId: row.run_id,
    role: row.role,
    parts: row.hidden ? [] : partsOf(sql, row),
  };
}

/**
 * The row's parts: the results it keeps by reference read from their events, and the text
 * streamed so far appended to its first text part.
 */
function partsOf(sql: SqlPort, row: MessageRow): MessagePart[] {
  const parts = JSON.parse(row.parts) as MessagePart[];
  if (row.role === "tool") resolveResults(sql, parts as StoredResult[]);
  if (!row.streamed) return parts;
  const first = parts[0];
  if (first?.type === "text") first.text += row.streamed;
  else parts.unshift({ type: "text", text: row.streamed });
  return parts;
}

/** Puts back each result a tool row keeps by reference, from its event (one read for the row). */
function resolveResults(sql: SqlPort, parts: StoredResult[]): void {
  const refs = parts.filter((p) => p.resultSeq !== undefined);
  if (refs.length === 0) return;
  const events = new Map(
    sql
      .exec<{ seq: number; kind: string; data: string }>(
        "SELECT seq, kind, data FROM events WHERE seq IN (SELECT value FROM json_each(?))",
        JSON.stringify(refs.map((p) => p.resultSeq)),
      )
      .map((e) => [e.seq, e]),
  );
  for (const part of refs) {
    const event = events.get(part.resultSeq as number);
    if (event?.kind !== "tool.completed" && event?.kind !== "tool.failed")
      throw new TerminalError(
        "message_result_missing",
        `tool result ${part.callId} refers to ledger event ${part.resultSeq}, which is ${event ? `a ${event.kind}` : "missing"}: the messages projection is corrupt; rebuild it from the ledger`,
      );
    const data = JSON.parse(event.data) as Pick<ToolResultPart, "result" | "error">;
    if (event.kind === "tool.completed") part.result = data.result;
    else part.error = data.error;
    delete part.resultSeq;
  }
}
