import type { IndexedSession, SessionQuery, SessionsPage } from "@durable-agents/core";
import { BadRequestError, type PriceTable } from "@durable-agents/core";

export type { IndexedSession, SessionQuery };

export const MAX_SESSIONS_PAGE = 200;

/**
 * The index's D1 database, or its shards (see shards.ts): every query below reads all of
 * them and merges, so a caller never needs to know which shard holds a session.
 */
export type IndexDb = D1Database | readonly D1Database[];

function shardsOf(db: IndexDb): readonly D1Database[] {
  return Array.isArray(db) ? db : [db as D1Database];
}

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

/**
 * Sessions, newest first, filtered; keyset pagination on (created_at, agent, session).
 * Over shards: each shard answers its first `limit + 1` rows after the cursor and the
 * pages are merged in that order (a k-way merge): the key is unique across shards, so
 * the same cursor is valid for every shard and pages neither skip nor repeat.
 */
export async function listSessions(db: IndexDb, query: SessionQuery): Promise<SessionsPage> {
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
  const pages = await Promise.all(
    shardsOf(db).map((shard) =>
      shard
        .prepare(sql)
        .bind(...params, limit + 1)
        .all<SessionRow>()
        .then((r) => r.results),
    ),
  );
  const results = pages.length === 1 ? (pages[0] ?? []) : pages.flat().sort(newestFirst);
  const page = results.slice(0, limit).map(toSession);
  const last = page.at(-1);
  const nextCursor =
    results.length > limit && last
      ? encodeCursor([last.createdAt, last.agent, last.session])
      : null;
  return { sessions: page, nextCursor };
}

/** ORDER BY created_at DESC, agent, session, as SQLite orders them (BINARY: code point order). */
function newestFirst(a: SessionRow, b: SessionRow): number {
  return b.created_at - a.created_at || binary(a.agent, b.agent) || binary(a.session, b.session);
}

/** SQLite's BINARY collation on UTF-8 text is code point order (UTF-16 `<` is not, past U+FFFF). */
function binary(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
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

/** The most rows `usageRollup` answers. */
export const MAX_USAGE_ROWS = 10_000;

/**
 * Usage across sessions, rolled up by day, agent and model (or tool, sub-agent, metric),
 * ordered by those four; over shards, each shard's groups are summed by the same key.
 */
export async function usageRollup(
  db: IndexDb,
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
  const sql = `SELECT day, agent, kind, name, sum(calls) AS count, sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens, sum(value) AS value FROM da_usage${where.length ? ` WHERE ${where.join(" AND ")}` : ""} GROUP BY day, agent, kind, name ORDER BY day, agent, kind, name LIMIT ${MAX_USAGE_ROWS}`;
  const shards = await Promise.all(
    shardsOf(db).map((shard) =>
      shard
        .prepare(sql)
        .bind(...params)
        .all<UsageRow>()
        .then((r) => r.results),
    ),
  );
  const results = shards.length === 1 ? (shards[0] ?? []) : sumGroups(shards.flat());
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

/** Adds up rows of the same (day, agent, kind, name) from several shards, in that order. */
function sumGroups(rows: readonly UsageRow[]): UsageRow[] {
  const groups = new Map<string, UsageRow>();
  for (const row of rows) {
    const key = JSON.stringify([row.day, row.agent, row.kind, row.name]);
    const seen = groups.get(key);
    groups.set(
      key,
      seen
        ? {
            ...seen,
            count: seen.count + row.count,
            inputTokens: seen.inputTokens + row.inputTokens,
            outputTokens: seen.outputTokens + row.outputTokens,
            value: seen.value + row.value,
          }
        : row,
    );
  }
  return [...groups.values()]
    .sort(
      (a, b) =>
        binary(a.day, b.day) ||
        binary(a.agent, b.agent) ||
        binary(a.kind, b.kind) ||
        binary(a.name, b.name),
    )
    .slice(0, MAX_USAGE_ROWS);
}
