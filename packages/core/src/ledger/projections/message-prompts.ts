import type { LanguageModelV4Message } from "@ai-sdk/provider";
import { convert } from "../../agent/prompt.ts";
import type { SqlPort } from "../../sql/port.ts";
import { messagesAt } from "./message-reads.ts";
import { PROMPT_DEFERRED } from "./messages.ts";

/** The conversation in the provider prompt format, as one read of the messages projection. */
export interface PromptRows {
  /** The model-visible messages in conversation order (agent/prompt.ts `convert` of each). */
  readonly messages: LanguageModelV4Message[];
  /** The highest message index in the projection when read (hidden and empty rows too); 0 if none. */
  readonly lastIndex: number;
  /** The messages' JSON size (UTF-16 code units), for the prompt cache's idle limit. */
  readonly bytes: number;
}

/**
 * A streaming row's message, built from its deltas: the text the row shows so far
 * (message-reads.ts `partsOf`: the deltas appended to its empty first text part), as `convert`
 * gives it. A streaming row with no text yet is sent nothing, as `convert` drops it.
 */
const STREAMED_TEXT = `coalesce(json_extract(parts, '$[0].text'), '') || coalesce((SELECT group_concat(text, '' ORDER BY seq) FROM message_deltas d WHERE d.id = messages.id), '')`;
const STREAMING = `iif(${STREAMED_TEXT} = '', NULL, json_object('role', 'assistant', 'content', json_array(json_object('type', 'text', 'text', ${STREAMED_TEXT}))))`;

/**
 * `idx` is the table's rowid, so the inner query reads the rows in conversation order without
 * sorting (a rowid range: only the rows after a compaction's `throughIndex`), and `group_concat` joins them in the order the subquery gives them.
 * `group_concat(p, ',' ORDER BY idx)` would sort them again in a temporary B-tree: ~2× the time.
 */
const READ = `SELECT (SELECT max(idx) FROM messages) AS last, '[' || coalesce(group_concat(p, ','), '') || ']' AS prompt
  FROM (SELECT CASE WHEN streaming = 1 THEN ${STREAMING} WHEN prompt = '${PROMPT_DEFERRED}' THEN idx ELSE prompt END AS p
        FROM messages WHERE idx > ? AND idx <= ? AND hidden = 0 AND (prompt IS NOT NULL OR streaming = 1) ORDER BY idx)
  WHERE p IS NOT NULL`;

/**
 * Reads the whole prompt (without the system message) in one statement: the rows' stored
 * provider-format JSON (`messages.prompt`, written with the parts), joined by SQLite and
 * parsed once, instead of reading, parsing and converting every message. A row too large to
 * keep its prompt inline (`PROMPT_DEFERRED`) comes as its index, and is read and converted
 * from its parts (one more statement for all of them). Gives exactly what converting
 * `changedMessages(sql, 0)` one by one gives (message-prompts.test.ts compares).
 *
 * `range`: only the messages with an index above `after` and up to `through` (default: all),
 * read as a range of the rowid, so a compacted prompt (agent/context-compaction.ts) costs what
 * its tail holds, whatever came before.
 */
export function readPrompt(
  sql: SqlPort,
  range: { readonly after?: number; readonly through?: number } = {},
): PromptRows {
  const after = range.after ?? 0;
  const through = range.through ?? Number.MAX_SAFE_INTEGER;
  const row = sql.exec<{ last: number | null; prompt: string }>(READ, after, through)[0];
  const text = row?.prompt ?? "[]";
  const read = JSON.parse(text) as (LanguageModelV4Message | number)[];
  const deferred = read.filter((m) => typeof m === "number");
  const converted = new Map(messagesAt(sql, deferred).map((m) => [m.index, convert(m)]));
  let bytes = text.length - 2;
  const messages: LanguageModelV4Message[] = [];
  for (const entry of read) {
    const message = typeof entry === "number" ? converted.get(entry) : entry;
    if (message === undefined) continue;
    if (typeof entry === "number") bytes += JSON.stringify(message).length;
    else if (message.role === "user") reviveUrls(message);
    messages.push(message);
  }
  return { messages, lastIndex: row?.last ?? 0, bytes };
}

/**
 * The latest model-visible user message at or before index `through`, in the provider prompt
 * format: what a plain window's prompt pins before a kept tail that starts at an assistant turn
 * (agent/context-compaction.ts, invariant 4). Walks the rowid back from `through`.
 */
export function latestUserPrompt(
  sql: SqlPort,
  through: number,
): LanguageModelV4Message | undefined {
  const row = sql.exec<{ idx: number }>(
    "SELECT idx FROM messages WHERE idx <= ? AND role = 'user' AND hidden = 0 AND prompt IS NOT NULL ORDER BY idx DESC LIMIT 1",
    through,
  )[0];
  return row && readPrompt(sql, { after: row.idx - 1, through: row.idx }).messages[0];
}

/** JSON keeps a file part's `URL` as its href: the provider spec wants the URL object back. */
function reviveUrls(message: Extract<LanguageModelV4Message, { role: "user" }>): void {
  for (const part of message.content) {
    if (part.type !== "file" || typeof part.data !== "object" || part.data === null) continue;
    const data = part.data as { type?: string; url?: unknown };
    if (data.type === "url" && typeof data.url === "string") data.url = new URL(data.url);
  }
}
