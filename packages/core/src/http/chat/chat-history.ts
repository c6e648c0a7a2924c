import * as z from "zod/mini";
import { shownRunsBefore } from "../../ledger/projections/runs.ts";
import { activeRun } from "../../ledger/wait-reasons.ts";
import { utf8Length } from "../../utf8.ts";
import { type ChatTurn, chatTurn } from "../../wire/ui-stream/chat-turns.ts";
import { LIMITS } from "../limits.ts";
import { validate } from "../read-json.ts";
import type { RouteTable, SessionHttpContext } from "../route.ts";
import { pageLimit } from "../session-pages.ts";

/**
 * `GET .../chat-history`: the conversation a chat client restores, in one response (useChat's
 * `Chat` after a reload: `loadChatMessages` in @durable-agents/client/chat). The newest turns,
 * each a run with its user messages and its answer as UI message stream chunks
 * (wire/ui-stream/chat-turns.ts); the active run's chunks are left out for the resume
 * (`GET /chat/:agent/:id/stream`). Pages back like `GET .../messages?before=`.
 */
export const chatHistoryQuery = z.object({
  before: z.optional(
    z.string().check(z.regex(/^(?:\d{1,15}|end)$/, 'before must be a prevCursor value or "end"')),
  ),
  limit: z.optional(pageLimit(LIMITS.maxChatHistoryTurns)),
});

/** Turns per page when `limit` is not given. */
export const DEFAULT_CHAT_HISTORY_TURNS = 50;

export interface ChatHistoryPage {
  /** Oldest first. */
  readonly turns: ChatTurn[];
  /** The active run (running, or waiting on a sub-agent or a Workflow), or null. */
  readonly activeRunId: string | null;
  /** `before` for the page of older turns; null when this page holds the first. */
  readonly prevCursor: string | null;
}

/**
 * One page of turns, newest `limit` before `before` ("end": of all), within `maxBytes` of
 * JSON: turns are built newest first and the page ends before the first that would not fit
 * (the newest is always in, whole), `prevCursor` then naming the oldest turn in the page.
 * `maxBytes` is a parameter so that a test can page a few kilobytes instead of megabytes.
 */
export function chatHistoryPage(
  ctx: Pick<SessionHttpContext, "runtime" | "sql">,
  query: z.output<typeof chatHistoryQuery>,
  maxBytes: number = LIMITS.maxChatHistoryBytes,
): ChatHistoryPage {
  const limit = query.limit ?? DEFAULT_CHAT_HISTORY_TURNS;
  const before = query.before === undefined || query.before === "end" ? null : Number(query.before);
  const runs = shownRunsBefore(ctx.sql, before, limit + 1);
  const active = activeRun(ctx.sql)?.runId ?? null;
  const turns: ChatTurn[] = [];
  let bytes = 0;
  for (const run of runs.slice(0, limit)) {
    const turn = chatTurn(ctx.runtime.ledger, ctx.sql, run, run.runId === active);
    bytes += utf8Length(JSON.stringify(turn)) + 1;
    if (turns.length > 0 && bytes > maxBytes - PAGE_OVERHEAD) break;
    turns.push(turn);
  }
  const more = turns.length < runs.length;
  const oldest = runs[turns.length - 1];
  const prevCursor = more && oldest ? String(oldest.startedSeq) : null;
  return { turns: turns.reverse(), activeRunId: active, prevCursor };
}

/** Room for the page's own fields (`activeRunId`, `prevCursor`) beside its turns. */
const PAGE_OVERHEAD = 256;

export const chatHistoryRoutes: RouteTable = {
  "chat-history": {
    GET: (request, ctx) => {
      const params = Object.fromEntries(new URL(request.url).searchParams);
      const query = validate(chatHistoryQuery, params, "the chat-history query");
      return Response.json(chatHistoryPage(ctx, query));
    },
  },
};
