import type { UserFile } from "../../agent/user-files.ts";
import type { SqlPort } from "../../sql/port.ts";
import type { JsonValue, LedgerEvent } from "../events.ts";
import type { Projection } from "../projection.ts";

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
}

/**
 * The conversation as the model sees it. One user message per run start, one
 * assistant message per step (text, then tool calls), and one tool message per
 * step holding results in call order, whatever order they finished in.
 */
export const messagesProjection: Projection = {
  name: "messages",
  version: 3,
  create: [
    "CREATE TABLE messages (id TEXT PRIMARY KEY, idx INTEGER NOT NULL UNIQUE, run_id TEXT, role TEXT NOT NULL, parts TEXT NOT NULL, seq INTEGER NOT NULL, created_seq INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX messages_by_seq ON messages (seq)",
  ],
  drop: ["DROP TABLE IF EXISTS messages"],
  apply(sql, event) {
    switch (event.kind) {
      case "run.started":
        // A regenerated turn: the replaced run's messages (its user message too) are hidden.
        if (event.data.replaces !== undefined)
          sql.exec(
            "UPDATE messages SET hidden = 1, seq = ? WHERE run_id = ? AND hidden = 0",
            event.seq,
            event.data.replaces,
          );
        insert(sql, `m${event.seq}`, event, "user", [
          { type: "text", text: event.data.input.message },
          ...(event.data.input.files ?? []),
        ]);
        return;
      case "step.started":
        // A step that starts again after a crash discards the partial answer of the lost attempt.
        // The row stays (emptied) so that message indexes never move.
        if (event.data.attempt > 1)
          update(sql, stepId(event.runId, event.data.step, "a"), [], event.seq);
        return;
      case "model.delta": {
        const id = stepId(event.runId, event.data.step, "a");
        const row = find(sql, id);
        if (!row) {
          const parts: MessagePart[] = [{ type: "text", text: event.data.text }];
          insert(sql, id, event, "assistant", parts);
          return hideIfBlank(sql, id, parts);
        }
        const parts = JSON.parse(row.parts) as MessagePart[];
        const first = parts[0];
        // (an emptied row from a lost attempt starts over here)
        if (first?.type === "text") first.text += event.data.text;
        else parts.unshift({ type: "text", text: event.data.text });
        update(sql, id, parts, event.seq);
        return hideIfBlank(sql, id, parts);
      }
      case "model.completed": {
        const { step, text, toolCalls } = event.data;
        const parts: MessagePart[] = text ? [{ type: "text", text }] : [];
        for (const call of toolCalls) parts.push({ type: "tool-call", ...call });
        const id = stepId(event.runId, step, "a");
        if (find(sql, id)) update(sql, id, parts, event.seq);
        else if (parts.length > 0) insert(sql, id, event, "assistant", parts);
        hideIfBlank(sql, id, parts);
        if (toolCalls.length > 0) {
          const results: MessagePart[] = toolCalls.map((c) => ({
            type: "tool-result",
            callId: c.callId,
            name: c.name,
            status: "pending",
          }));
          insert(sql, stepId(event.runId, step, "t"), event, "tool", results);
        }
        return;
      }
      case "run.resumed": {
        const { mode, message, checkpoint } = event.data;
        // Going back to a checkpoint hides what the run said after it; the ledger keeps it.
        if (checkpoint !== undefined) {
          sql.exec(
            "UPDATE messages SET hidden = 1, seq = ? WHERE run_id = ? AND created_seq > ? AND hidden = 0",
            event.seq,
            event.runId,
            checkpoint,
          );
        }
        if (message !== undefined && (mode === "with_message" || checkpoint !== undefined)) {
          insert(sql, `m${event.seq}`, event, "user", [{ type: "text", text: message }]);
        }
        return;
      }
      case "approval.resolved": {
        if (event.data.args === undefined) return;
        // The model sees the arguments the human approved, not the ones it proposed.
        const id = stepId(event.runId, event.data.step, "a");
        const row = find(sql, id);
        if (!row) return;
        const parts = JSON.parse(row.parts) as MessagePart[];
        const call = parts.find((p) => p.type === "tool-call" && p.callId === event.data.callId);
        if (call?.type === "tool-call") call.args = event.data.args;
        return update(sql, id, parts, event.seq);
      }
      case "tool.completed":
        return setResult(sql, event, { status: "completed", result: event.data.result });
      case "tool.failed":
        return setResult(sql, event, { status: "failed", error: event.data.error });
      case "tool.outcome_unknown":
        return setResult(sql, event, { status: "outcome_unknown" });
      default:
        return;
    }
  },
};

function stepId(runId: string | null, step: number, role: "a" | "t"): string {
  return `${runId}:${step}:${role}`;
}

function find(sql: SqlPort, id: string): MessageRow | undefined {
  return sql.exec<MessageRow>(
    "SELECT id, idx, run_id, role, parts FROM messages WHERE id = ?",
    id,
  )[0];
}

function insert(
  sql: SqlPort,
  id: string,
  event: LedgerEvent,
  role: MessageRole,
  parts: MessagePart[],
): void {
  const next =
    (sql.exec<{ n: number | null }>("SELECT max(idx) AS n FROM messages")[0]?.n ?? 0) + 1;
  sql.exec(
    "INSERT INTO messages (id, idx, run_id, role, parts, seq, created_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
    id,
    next,
    event.runId,
    role,
    JSON.stringify(parts),
    event.seq,
    event.seq,
  );
}

/**
 * An assistant message with only whitespace so far is not shown or sent back to the
 * model (a blank answer is retried, see model-errors.ts); it shows once it has
 * visible text or a tool call. Only a step's own live row gets here, never one a
 * checkpoint hid.
 */
function hideIfBlank(sql: SqlPort, id: string, parts: readonly MessagePart[]): void {
  const blank = parts.every((p) => p.type === "text" && p.text.trim() === "");
  sql.exec("UPDATE messages SET hidden = ? WHERE id = ?", blank ? 1 : 0, id);
}

function update(sql: SqlPort, id: string, parts: MessagePart[], seq: number): void {
  sql.exec("UPDATE messages SET parts = ?, seq = ? WHERE id = ?", JSON.stringify(parts), seq, id);
}

function setResult(
  sql: SqlPort,
  event: LedgerEvent<"tool.completed" | "tool.failed" | "tool.outcome_unknown">,
  patch: Partial<Extract<MessagePart, { type: "tool-result" }>>,
): void {
  const id = stepId(event.runId, event.data.step, "t");
  const row = find(sql, id);
  if (!row) return;
  const parts = JSON.parse(row.parts) as MessagePart[];
  const part = parts.find((p) => p.type === "tool-result" && p.callId === event.data.callId);
  if (part) Object.assign(part, patch);
  update(sql, id, parts, event.seq);
}

/** A page of non-empty messages in conversation order, after the message with index `afterIndex`. */
export function listMessages(sql: SqlPort, afterIndex: number, limit: number): Message[] {
  return sql
    .exec<MessageRow>(
      "SELECT id, idx, run_id, role, parts, hidden FROM messages WHERE idx > ? AND parts != '[]' AND hidden = 0 ORDER BY idx LIMIT ?",
      afterIndex,
      limit,
    )
    .map(toMessage);
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
          `SELECT id, idx, run_id, role, parts, hidden FROM messages WHERE ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
          limit,
        )
      : sql.exec<MessageRow>(
          `SELECT id, idx, run_id, role, parts, hidden FROM messages WHERE idx < ? AND ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
          beforeIndex,
          limit,
        );
  return rows.map(toMessage).reverse();
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
      `SELECT id, idx, run_id, role, parts, hidden FROM messages WHERE created_seq <= ? AND ${VISIBLE} ORDER BY idx DESC LIMIT ?`,
      seq,
      limit,
    )
    .map(toMessage)
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
    .exec<MessageRow>(
      "SELECT id, idx, run_id, role, parts, hidden FROM messages WHERE seq > ? ORDER BY +idx",
      afterSeq,
    )
    .map(toMessage);
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    index: row.idx,
    runId: row.run_id,
    role: row.role,
    parts: row.hidden ? [] : (JSON.parse(row.parts) as MessagePart[]),
  };
}
