import { convert } from "../../agent/prompt.ts";
import type { SqlPort } from "../../sql/port.ts";
import { utf8Exceeds } from "../../utf8.ts";
import { type LedgerEvent, type PriorMessage, TERMINAL_KINDS } from "../events.ts";
import type { Projection } from "../projection.ts";
import { COMPACTIONS_TABLE, dropCompactionsHiddenBy, recordCompaction } from "./compactions.ts";
import type { MessagePart, MessageRole, StoredResult } from "./message-reads.ts";

/**
 * A run's user rows by run (`runUserMessages`, GET .../chat-history, and the first row of a run,
 * `RUN_FIRST_IDX`). Only user rows: a step writes two rows (its answer, its results), and an
 * index over them would be one more B-tree to write per step that no read needs.
 */
const USER_BY_RUN = "CREATE INDEX messages_user_by_run ON messages (run_id) WHERE role = 'user'";

/**
 * The index of a run's first row, 0 when it has none: what its `run.started` wrote first (the
 * first message it handed in, `m<seq>.0`, else its own user message; either has the run's start
 * as `created_seq`, as does its first user row). Every row of the run comes at or after it, so
 * a write to the run's rows searches the rowid from there instead of scanning the table. Takes
 * `runFirstIdxParams(runId)`.
 */
const RUN_FIRST_IDX = `coalesce(
  (SELECT f.idx FROM messages f WHERE f.id = (SELECT 'm' || u.created_seq || '.0' FROM messages u WHERE u.run_id = ? AND u.role = 'user' ORDER BY u.idx LIMIT 1)),
  (SELECT min(u.idx) FROM messages u WHERE u.run_id = ? AND u.role = 'user'),
  0)`;

const runFirstIdxParams = (runId: string | null): [string | null, string | null] => [runId, runId];

/**
 * The conversation as the model sees it. One user message per run start, one
 * assistant message per step (text, then tool calls), and one tool message per
 * step holding results in call order, whatever order they finished in.
 *
 * A step's answer streams as rows of `message_deltas` (one per `model.delta`), so the cost
 * of a delta does not grow with the answer: the assistant row itself stays small until
 * `model.completed` writes its final parts. Readers join the two while the row streams
 * (`toMessage` in message-reads.ts, which holds the reads of this table); the run's end (or
 * its start of a wait) drops the deltas of its rows that no longer stream.
 *
 * Each row also keeps its message in the provider prompt format, already JSON (`prompt`,
 * written with `parts`; null when the model is sent nothing for it), so that a woken object
 * reads the whole prompt in one statement instead of converting every message again
 * (`readPrompt` in message-prompts.ts). A streaming row's prompt is built from its deltas
 * when it is read.
 *
 * The prompt's compactions (`context.compacted`, compactions.ts) live here too: a regenerate or
 * rewind that hides a message drops a summary that covers it, in the same apply.
 */
export const messagesProjection: Projection = {
  name: "messages",
  // 6: the compactions table (a session written by version 5 rebuilds from its ledger).
  // 7: `messages_by_run`, a run's messages by index (`runUserMessages`, GET .../chat-history);
  // migration 1 narrows it to the user rows (`messages_user_by_run`).
  version: 7,
  create: [
    "CREATE TABLE messages (idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, run_id TEXT, role TEXT NOT NULL, parts TEXT NOT NULL, seq INTEGER NOT NULL, created_seq INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0, streaming INTEGER NOT NULL DEFAULT 0, prompt TEXT)",
    "CREATE INDEX messages_by_seq ON messages (seq)",
    USER_BY_RUN,
    "CREATE TABLE message_deltas (id TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (id, seq)) WITHOUT ROWID",
    COMPACTIONS_TABLE,
  ],
  migrations: [
    {
      version: 1,
      name: "messages_by_run narrowed to user rows (messages_user_by_run)",
      up: [
        "DROP INDEX IF EXISTS messages_by_run",
        USER_BY_RUN.replace("INDEX", "INDEX IF NOT EXISTS"),
      ],
    },
  ],
  drop: [
    "DROP TABLE IF EXISTS messages",
    "DROP TABLE IF EXISTS message_deltas",
    "DROP TABLE IF EXISTS compactions",
  ],
  apply(sql, event) {
    // At a run's end, and when it starts waiting (an approval, a client's tool: maybe for days),
    // no answer of it streams on, so its finished answers' deltas go.
    if (TERMINAL_KINDS.has(event.kind) || event.kind === "run.waiting")
      return dropDeltas(sql, event.runId);
    switch (event.kind) {
      case "run.started":
        // A regenerated turn: the replaced run's messages (its user message too) are hidden.
        if (event.data.replaces !== undefined) {
          sql.exec(
            `UPDATE messages SET hidden = 1, seq = ? WHERE idx >= ${RUN_FIRST_IDX} AND run_id = ? AND hidden = 0`,
            event.seq,
            ...runFirstIdxParams(event.data.replaces),
            event.data.replaces,
          );
          dropCompactionsHiddenBy(sql, event.seq);
        }
        insertPrior(sql, event, event.data.input.messages);
        insert(sql, `m${event.seq}`, event, "user", [
          { type: "text", text: event.data.input.message },
          ...(event.data.input.files ?? []),
        ]);
        return;
      case "step.started":
        // A step that starts again after a crash discards the partial answer of the lost attempt.
        // The row stays (emptied) so that message indexes never move.
        if (event.data.attempt > 1)
          update(sql, stepId(event.runId, event.data.step, "a"), "assistant", [], event.seq, true);
        return;
      case "model.delta": {
        const id = stepId(event.runId, event.data.step, "a");
        const { text } = event.data;
        sql.exec(
          "INSERT INTO message_deltas (id, seq, text) VALUES (?, ?, ?)",
          id,
          event.seq,
          text,
        );
        // The row is made by the first delta (or refilled after a lost attempt emptied it), moved
        // to this seq (prompt caches read changes by seq), and shown once it has visible text
        // (isBlank). It never holds the text itself, so this costs the same at any length.
        const visible = text.trim() !== "" ? 1 : 0;
        sql.exec(
          `INSERT INTO messages (id, idx, run_id, role, parts, seq, created_seq, hidden, streaming)
           VALUES (?, (SELECT coalesce(max(idx), 0) + 1 FROM messages), ?, 'assistant', ?, ?, ?, ?, 1)
           ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, streaming = 1,
             parts = CASE WHEN messages.parts = '[]' THEN excluded.parts ELSE messages.parts END,
             hidden = CASE WHEN ? = 1 THEN 0 WHEN messages.parts = '[]' THEN 1 ELSE messages.hidden END`,
          id,
          event.runId,
          EMPTY_TEXT,
          event.seq,
          event.seq,
          1 - visible,
          visible,
        );
        return;
      }
      case "model.completed": {
        const { step, text, toolCalls } = event.data;
        const parts: MessagePart[] = text ? [{ type: "text", text }] : [];
        for (const call of toolCalls) parts.push({ type: "tool-call", ...call });
        const id = stepId(event.runId, step, "a");
        // The streamed row takes its final parts, shown unless blank (isBlank); an answer that
        // streamed nothing gets its row here. The row no longer reads its deltas (it is not
        // streaming): the run's end or wait drops them (dropDeltas), not each step.
        const hidden = isBlank(parts) ? 1 : 0;
        const json = JSON.stringify(parts);
        const prompt = promptJson("assistant", parts, json);
        if (parts.length > 0)
          sql.exec(
            `INSERT INTO messages (id, run_id, role, parts, seq, created_seq, prompt, hidden) VALUES (?, ?, 'assistant', ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET parts = excluded.parts, seq = excluded.seq, streaming = 0, prompt = excluded.prompt, hidden = excluded.hidden`,
            id,
            event.runId,
            json,
            event.seq,
            event.seq,
            prompt,
            hidden,
          );
        else
          sql.exec(
            "UPDATE messages SET parts = ?, seq = ?, streaming = 0, prompt = ?, hidden = ? WHERE id = ?",
            json,
            event.seq,
            prompt,
            hidden,
            id,
          );
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
        const { mode, message } = event.data;
        // Going back to a checkpoint hides what the run said after it; the ledger keeps it.
        const checkpoint = rewindsTo(event);
        if (checkpoint !== undefined) {
          sql.exec(
            `UPDATE messages SET hidden = 1, seq = ? WHERE idx >= ${RUN_FIRST_IDX} AND run_id = ? AND created_seq > ? AND hidden = 0`,
            event.seq,
            ...runFirstIdxParams(event.runId),
            event.runId,
            checkpoint,
          );
          dropCompactionsHiddenBy(sql, event.seq);
        }
        if (mode === "with_message" || checkpoint !== undefined)
          insertPrior(sql, event, event.data.messages);
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
        return update(sql, id, "assistant", parts, event.seq);
      }
      case "context.compacted":
        return recordCompaction(sql, event);
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

/**
 * The checkpoint (a ledger seq) that a resume goes back to (`run.resumed` with `checkpoint`:
 * a resume from a checkpoint, a retry): what its run said after that seq is hidden from the
 * conversation (this projection), from a restored chat and from the resume stream of the
 * active run and from AG-UI (wire/rewound.ts).
 * Undefined for any other event.
 */
export function rewindsTo(event: LedgerEvent): number | undefined {
  return event.kind === "run.resumed" ? event.data.checkpoint : undefined;
}

/** Messages a client handed in, before the event's own user message (ids `m<seq>.<i>`). */
function insertPrior(
  sql: SqlPort,
  event: LedgerEvent,
  messages: readonly PriorMessage[] | undefined,
): void {
  messages?.forEach((m, i) => {
    insert(sql, `m${event.seq}.${i}`, event, m.role, [
      { type: "text", text: m.content },
      ...(m.files ?? []),
    ]);
  });
}

function stepId(runId: string | null, step: number, role: "a" | "t"): string {
  return `${runId}:${step}:${role}`;
}

/** A row's stored parts (JSON), without the text streamed into it. */
function find(sql: SqlPort, id: string): { parts: string } | undefined {
  return sql.exec<{ parts: string }>("SELECT parts FROM messages WHERE id = ?", id)[0];
}

/**
 * A new row at the end of the conversation: `idx` is the rowid, so SQLite gives it the
 * largest index plus one (what `max(idx) + 1` would), in the same statement.
 */
function insert(
  sql: SqlPort,
  id: string,
  event: LedgerEvent,
  role: MessageRole,
  parts: MessagePart[],
  hidden = 0,
): void {
  const json = JSON.stringify(parts);
  sql.exec(
    "INSERT INTO messages (id, run_id, role, parts, seq, created_seq, prompt, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    id,
    event.runId,
    role,
    json,
    event.seq,
    event.seq,
    promptJson(role, parts, json),
    hidden,
  );
}

/**
 * An assistant message with only whitespace so far is not shown or sent back to the
 * model (a blank answer is retried, see model-errors.ts); it shows once it has
 * visible text or a tool call. Only a step's own live row gets here, never one a
 * checkpoint hid.
 */
function isBlank(parts: readonly MessagePart[]): boolean {
  return parts.every((p) => p.type === "text" && p.text.trim() === "");
}

/**
 * A row's message as the model is sent it (agent/prompt.ts `convert`), as JSON; null when it
 * is sent nothing (no parts, or an assistant message without text or tool calls). A message
 * whose parts and prompt together exceed PROMPT_INLINE_BYTES (its files, tool results or
 * answer are large) keeps `PROMPT_DEFERRED` instead, so a row never nears DO SQLite's 2 MB row
 * limit for this copy: the prompt load converts that row from its parts (message-prompts.ts).
 */
function promptJson(role: MessageRole, parts: MessagePart[], partsJson: string): string | null {
  if (parts.length === 0) return null;
  // A result kept by reference (setResult) is read with the row's parts.
  if (role === "tool" && parts.some((p) => (p as StoredResult).resultSeq !== undefined))
    return PROMPT_DEFERRED;
  const message = convert({ id: "", index: 0, runId: null, role, parts });
  if (!message) return null;
  const json = JSON.stringify(message);
  return utf8Exceeds(PROMPT_INLINE_BYTES, partsJson, json) ? PROMPT_DEFERRED : json;
}

/**
 * The most bytes of parts and prompt JSON one row holds both of: 1 MiB. Bytes, as DO SQLite
 * counts its 2 MB: an answer at the event limit (1 MiB) is under 1 Mi characters with its copy,
 * but of CJK text the two are 2 MB.
 */
const PROMPT_INLINE_BYTES = 1024 * 1024;

/** The `prompt` of a row too large to keep its prompt inline: read it from its parts. */
export const PROMPT_DEFERRED = "0";

/** The parts of a row that text streams into: the deltas are appended to this empty text. */
const EMPTY_TEXT = JSON.stringify([{ type: "text", text: "" }]);

/**
 * Writes a row's parts whole. Parts written over a streamed answer (`model.completed`, or the
 * empty row of a lost attempt) replace it: pass `streamed` to drop its deltas.
 */
function update(
  sql: SqlPort,
  id: string,
  role: MessageRole,
  parts: MessagePart[],
  seq: number,
  streamed = false,
): void {
  const json = JSON.stringify(parts);
  sql.exec(
    "UPDATE messages SET parts = ?, seq = ?, streaming = 0, prompt = ? WHERE id = ?",
    json,
    seq,
    promptJson(role, parts, json),
    id,
  );
  if (streamed) sql.exec("DELETE FROM message_deltas WHERE id = ?", id);
}

/**
 * Drops the deltas of a run's answers that no longer stream (`model.completed` wrote their
 * parts), at the run's end and when it starts waiting: the deltas of its ids (`<run>:<step>:a`,
 * a range of the key), except those of a row still streaming (an answer the run ended in the middle of shows them).
 */
function dropDeltas(sql: SqlPort, runId: string | null): void {
  if (runId === null) return;
  sql.exec(
    `DELETE FROM message_deltas WHERE id >= ? AND id < ?
     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = message_deltas.id AND m.streaming = 1)`,
    `${runId}:`,
    `${runId};`,
  );
}

/**
 * The most bytes (UTF-8, as DO SQLite counts) of tool results one step's tool row holds inline. A result that would
 * take the row past it stays only in its ledger event: the row's part keeps that event's seq
 * (`StoredResult`), and the read path (message-reads.ts `partsOf`) reads the result from it.
 * So however many calls a step makes, its row grows by a reference per call, not by results
 * (each up to maxToolResultBytes): DO SQLite refuses a row over 2 MB, and the row is rewritten
 * per result. Rows written before this kept every result inline, and still read as they are.
 */
const RESULTS_INLINE_BYTES = 256 * 1024;

function setResult(
  sql: SqlPort,
  event: LedgerEvent<"tool.completed" | "tool.failed" | "tool.outcome_unknown">,
  patch: Partial<Extract<MessagePart, { type: "tool-result" }>>,
): void {
  const id = stepId(event.runId, event.data.step, "t");
  const row = find(sql, id);
  if (!row) return;
  const parts = JSON.parse(row.parts) as MessagePart[];
  const part = parts.find((p) => p.type === "tool-result" && p.callId === event.data.callId) as
    | StoredResult
    | undefined;
  if (part) {
    delete part.resultSeq;
    Object.assign(part, patch);
    const added = JSON.stringify(patch.result ?? patch.error ?? null);
    if (
      event.kind !== "tool.outcome_unknown" &&
      utf8Exceeds(RESULTS_INLINE_BYTES, row.parts, added)
    ) {
      delete part.result;
      delete part.error;
      part.resultSeq = event.seq;
    }
  }
  update(sql, id, "tool", parts, event.seq);
}
