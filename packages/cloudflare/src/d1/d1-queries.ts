import type { IndexedSession, SessionQuery, SessionsPage } from "@durable-agents/core";
import { BadRequestError, type PriceTable } from "@durable-agents/core";

export type { IndexedSession, SessionQuery };

export const MAX_SESSIONS_PAGE = 200;

interface SessionRow {
  agent: string;
  session: string;
  status: string;
  run_id: string | null;
  user: string | null;
  tags: string;
  created_at: number;
  updated_at: number;
}

/** Sessions, newest first, filtered; keyset pagination on (created_at, agent, session). */
export async function listSessions(db: D1Database, query: SessionQuery): Promise<SessionsPage> {
  const limit = query.limit ?? 50;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.tag !== undefined) {
    where.push(
      "EXISTS (SELECT 1 FROM da_session_tags t WHERE t.tag = ? AND t.agent = s.agent AND t.session = s.session)",
    );
    params.push(query.tag);
  }
  for (const [column, value] of [
    ["s.agent", query.agent],
    ["s.status", query.status],
    ["s.user", query.user],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (after) {
    where.push(
      "(s.created_at < ? OR (s.created_at = ? AND (s.agent > ? OR (s.agent = ? AND s.session > ?))))",
    );
    params.push(after[0], after[0], after[1], after[1], after[2]);
  }
  const sql = `SELECT s.agent, s.session, s.status, s.run_id, s.user, s.created_at, s.updated_at, (SELECT json_group_array(tag) FROM (SELECT tag FROM da_session_tags t2 WHERE t2.agent = s.agent AND t2.session = s.session ORDER BY tag)) AS tags FROM da_sessions s${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY s.created_at DESC, s.agent, s.session LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...params, limit + 1)
    .all<SessionRow>();
  const page = results.slice(0, limit).map(toSession);
  const last = page.at(-1);
  const nextCursor =
    results.length > limit && last
      ? encodeCursor([last.createdAt, last.agent, last.session])
      : null;
  return { sessions: page, nextCursor };
}

function toSession(row: SessionRow): IndexedSession {
  return {
    agent: row.agent,
    session: row.session,
    status: row.status,
    runId: row.run_id,
    user: row.user,
    tags: JSON.parse(row.tags) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type Cursor = [number, string, string];

function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/"))) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === "string" &&
      typeof value[2] === "string"
    )
      return value as Cursor;
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError(
    "invalid_cursor",
    "cursor must be a nextCursor value from an earlier page",
  );
}

export interface UsageQuery {
  /** First day, YYYY-MM-DD (UTC), inclusive. */
  readonly from?: string;
  /** Last day, YYYY-MM-DD (UTC), inclusive. */
  readonly to?: string;
  readonly agent?: string;
  readonly kind?: "model" | "tool" | "subagent" | "metric";
}

export interface UsageRow {
  readonly day: string;
  readonly agent: string;
  readonly kind: string;
  /** The model id, tool name, child agent or metric name. */
  readonly name: string;
  readonly count: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly value: number;
  /** With a price table: the cost of model and sub-agent tokens; null when unpriced. */
  readonly cost?: number | null;
}

/** Usage across sessions, rolled up by day, agent and model (or tool, sub-agent, metric). */
export async function usageRollup(
  db: D1Database,
  query: UsageQuery,
  prices?: PriceTable,
): Promise<{ rows: UsageRow[] }> {
  const where: string[] = [];
  const params: string[] = [];
  for (const [clause, value] of [
    ["day >= ?", query.from],
    ["day <= ?", query.to],
    ["agent = ?", query.agent],
    ["kind = ?", query.kind],
  ] as const) {
    if (value === undefined) continue;
    where.push(clause);
    params.push(value);
  }
  const { results } = await db
    .prepare(
      `SELECT day, agent, kind, name, sum(calls) AS count, sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens, sum(value) AS value FROM da_usage${where.length ? ` WHERE ${where.join(" AND ")}` : ""} GROUP BY day, agent, kind, name ORDER BY day, agent, kind, name LIMIT 10000`,
    )
    .bind(...params)
    .all<UsageRow>();
  if (!prices) return { rows: results };
  return {
    rows: results.map((row) => {
      if (row.kind !== "model" && row.kind !== "subagent") return row;
      const price = (row.kind === "model" ? prices[row.name] : undefined) ?? prices["*"];
      const cost = price
        ? Math.round(
            ((row.inputTokens * price.inputPerMillion + row.outputTokens * price.outputPerMillion) /
              1e6) *
              1e9,
          ) / 1e9
        : null;
      return { ...row, cost };
    }),
  };
}

/** How long the index keeps usage entries and settled sessions by default: 90 days. */
export const DEFAULT_RETENTION_DAYS = 90;
/** The most rows one retention pass deletes per table by default. */
export const DEFAULT_RETENTION_CHUNK = 500;

export interface RetentionOptions {
  readonly days: number;
  /** "Now" in ms since the epoch; defaults to Date.now(). */
  readonly now?: number;
  /** The most rows deleted per table in this pass (default DEFAULT_RETENTION_CHUNK). */
  readonly chunk?: number;
}

/**
 * One bounded retention pass, in one D1 batch: deletes up to `chunk` usage
 * entries older than `days`, and up to `chunk` sessions not updated for that
 * long that are no longer running or waiting (oldest first, with their tags).
 * `more` says a table had at least `chunk` rows to go: call again.
 * @throws RangeError when days or chunk is not positive.
 */
export async function applyRetention(
  db: D1Database,
  options: RetentionOptions,
): Promise<{ usage: number; sessions: number; more: boolean }> {
  if (!(options.days > 0)) throw new RangeError("retention days must be a positive number");
  const chunk = options.chunk ?? DEFAULT_RETENTION_CHUNK;
  if (!(Number.isSafeInteger(chunk) && chunk > 0))
    throw new RangeError("retention chunk must be a positive integer");
  const cutoff = (options.now ?? Date.now()) - options.days * 86_400_000;
  const settled =
    "SELECT agent, session FROM da_sessions WHERE updated_at < ? AND status NOT IN ('running', 'waiting') ORDER BY updated_at, agent, session LIMIT ?";
  const [usage, , sessions] = await db.batch([
    db
      .prepare(
        "DELETE FROM da_usage WHERE rowid IN (SELECT rowid FROM da_usage WHERE ts < ? ORDER BY ts LIMIT ?)",
      )
      .bind(cutoff, chunk),
    db
      .prepare(`DELETE FROM da_session_tags WHERE (agent, session) IN (${settled})`)
      .bind(cutoff, chunk),
    db
      .prepare(`DELETE FROM da_sessions WHERE (agent, session) IN (${settled})`)
      .bind(cutoff, chunk),
  ]);
  const deleted = { usage: usage?.meta.changes ?? 0, sessions: sessions?.meta.changes ?? 0 };
  return { ...deleted, more: deleted.usage >= chunk || deleted.sessions >= chunk };
}

/**
 * A `scheduled` handler that applies retention on a cron trigger, in passes of
 * `chunk` rows, at most `passes` (default 20) per trigger. Sessions that feed
 * the index already apply retention themselves (IndexOptions.retention); this
 * is for deployments that turn that off.
 * @example
 * export default { fetch: ..., scheduled: retentionHandler({ days: 90 }) };
 */
export function retentionHandler(options: {
  days: number;
  binding?: string;
  chunk?: number;
  passes?: number;
}) {
  return (controller: ScheduledController, env: object, ctx: ExecutionContext) => {
    const db = (env as Record<string, unknown>)[options.binding ?? "INDEX_DB"] as
      | D1Database
      | undefined;
    if (!db)
      throw new TypeError(`retention needs a D1 binding named ${options.binding ?? "INDEX_DB"}`);
    ctx.waitUntil(
      (async () => {
        for (let pass = 0; pass < (options.passes ?? 20); pass++) {
          const { more } = await applyRetention(db, {
            days: options.days,
            now: controller.scheduledTime,
            chunk: options.chunk,
          });
          if (!more) return;
        }
      })(),
    );
  };
}
