/**
 * Paged reads of one session's messages and checkpoints: one implementation for
 * `GET .../messages`, `GET .../checkpoints` and the Worker store (createStore), each of
 * which only parses its input into these queries.
 */
import * as z from "zod/mini";
import { BadRequestError } from "../errors/http-errors.ts";
import { type Checkpoint, listCheckpoints } from "../ledger/projections/checkpoints.ts";
import {
  listMessages,
  listMessagesBefore,
  type Message,
} from "../ledger/projections/message-reads.ts";
import type { SqlPort } from "../sql/port.ts";
import { text } from "../validation/fields.ts";
import { LIMITS } from "./limits.ts";

/** A page size from a query string: an integer 1-`max`. */
export const pageLimit = (max: number) => z.coerce.number().check(z.int(), z.gte(1), z.lte(max));

/** `cursor` (forward, after that message index) or `before` (backward); `limit` 1-`LIMITS.maxMessagesPage`, default 50. */
export const messagesPageQuery = z.object({
  cursor: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,12}$/, "cursor must be a nextCursor value from an earlier page")),
  ),
  before: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^(?:\d{1,12}|end)$/,
          'before must be a message index, a prevCursor value, or "end"',
        ),
      ),
  ),
  limit: z.optional(pageLimit(LIMITS.maxMessagesPage)),
});
export type MessagesPageQuery = z.input<typeof messagesPageQuery>;

/**
 * A page of messages, oldest first. Forward: `nextCursor` reads on (null after the last).
 * Backward (`before`): `prevCursor` reads further back (null at the first message), and
 * `nextCursor` reads forward from the page's end, live messages included.
 */
export interface MessagesPage {
  readonly messages: Message[];
  readonly nextCursor: string | null;
  readonly prevCursor?: string | null;
}

/** One page of the conversation; `query` as `messagesPageQuery` parsed it. */
export function messagesPage(
  sql: SqlPort,
  query: z.output<typeof messagesPageQuery>,
): MessagesPage {
  const limit = query.limit ?? 50;
  if (query.before !== undefined) {
    if (query.cursor !== undefined)
      throw new BadRequestError("invalid_request", 'give "cursor" or "before", not both');
    // Backward: the newest `limit` messages before `before` ("end": of all), oldest first.
    const before = query.before === "end" ? null : Number(query.before);
    const page = listMessagesBefore(sql, before, limit + 1);
    const messages = page.length > limit ? page.slice(1) : page;
    const first = messages[0]?.index;
    const prevCursor = page.length > limit && first !== undefined ? String(first) : null;
    // The `cursor` that reads forward from this page's end (newer messages, live ones too).
    const nextCursor = String(messages.at(-1)?.index ?? (before === null ? 0 : before - 1));
    return { messages, nextCursor, prevCursor };
  }
  const page = listMessages(sql, Number(query.cursor ?? 0), limit + 1);
  const messages = page.slice(0, limit);
  const nextCursor = page.length > limit ? String(messages.at(-1)?.index) : null;
  return { messages, nextCursor };
}

/** `cursor` (after that checkpoint), `limit` 1-200 (default 50), `runId` (only that run's). */
export const checkpointsPageQuery = z.object({
  cursor: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,15}$/, "cursor must be a nextCursor value from an earlier page")),
  ),
  limit: z.optional(pageLimit(200)),
  runId: z.optional(text(0, 100)),
});
export type CheckpointsPageQuery = z.input<typeof checkpointsPageQuery>;

/** Checkpoints in ledger order; pass `nextCursor` back as `cursor` (null after the last). */
export interface CheckpointsPage {
  readonly checkpoints: Checkpoint[];
  readonly nextCursor: string | null;
}

/** One page of checkpoints; `query` as `checkpointsPageQuery` parsed it. */
export function checkpointsPage(
  sql: SqlPort,
  query: z.output<typeof checkpointsPageQuery>,
): CheckpointsPage {
  const limit = query.limit ?? 50;
  const page = listCheckpoints(sql, Number(query.cursor ?? 0), limit + 1, query.runId);
  const checkpoints = page.slice(0, limit);
  const nextCursor = page.length > limit ? String(checkpoints.at(-1)?.seq) : null;
  return { checkpoints, nextCursor };
}
