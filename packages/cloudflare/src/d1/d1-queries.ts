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
 * pages are merged in that order (a k-way merge), so the same cursor is valid for every
 * shard. A session can have a row in two shards (indexed before its shard record existed,
 * or between the write to its new shard and the delete from its old one, see shards.ts);
 * it is listed once, as its winning row: the latest `updated_at`, a tie going to the
 * earlier shard in the list. The listing is every session's winning row that matches the
 * filters, at that row's own place in the order (a stale copy is never listed, even where
 * it alone matches), so pages neither skip nor repeat. This costs one more query per
 * shard per merge round (`copiesOf`).
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
  /** One shard's first `limit + 1` rows after `from`, filtered. */
  const read = (shard: D1Database, from: Cursor | null): Promise<SessionRow[]> => {
    const clauses = from ? [...where, AFTER] : where;
    const bound = from ? [from[0], from[0], from[1], from[1], from[2]] : [];
    return shard
      .prepare(
        `${SELECT}${clauses.length ? ` WHERE ${clauses.join(" AND ")}` : ""} ${ORDER} LIMIT ?`,
      )
      .bind(...params, ...bound, limit + 1)
      .all<SessionRow>()
      .then((r) => r.results);
  };
  const shards = shardsOf(db);
  const results =
    shards.length === 1 && shards[0]
      ? await read(shards[0], after)
      : await mergeShards(shards, limit + 1, after, read);
  const page = results.slice(0, limit).map(toSession);
  const last = page.at(-1);
  const nextCursor =
    results.length > limit && last
      ? encodeCursor([last.createdAt, last.agent, last.session])
      : null;
  return { sessions: page, nextCursor };
}

const SELECT =
  "SELECT s.agent, s.session, s.status, s.run_id, s.user, s.created_at, s.updated_at, (SELECT json_group_array(tag) FROM (SELECT tag FROM da_session_tags t2 WHERE t2.agent = s.agent AND t2.session = s.session ORDER BY tag)) AS tags FROM da_sessions s";
const ORDER = "ORDER BY s.created_at DESC, s.agent, s.session";
/** Rows strictly after a cursor (created_at, agent, session) in ORDER. */
const AFTER =
  "(s.created_at < ? OR (s.created_at = ? AND (s.agent > ? OR (s.agent = ? AND s.session > ?))))";

type ShardRow = SessionRow & { readonly shard: number };

/**
 * The first `want` winning rows after `after`, merged from every shard. A round reads each
 * shard's next `want` rows; every row up to the earliest last row of a full page (`bound`)
 * is then known from every shard, including all copies of a session that share its place,
 * so those rows are decided and the next round starts after `bound`. Each round advances
 * by at least `want` rows, so it ends.
 */
async function mergeShards(
  shards: readonly D1Database[],
  want: number,
  after: Cursor | null,
  read: (shard: D1Database, from: Cursor | null) => Promise<SessionRow[]>,
): Promise<SessionRow[]> {
  const out: SessionRow[] = [];
  for (let from = after; ; ) {
    const pages = await Promise.all(
      shards.map((shard, i) =>
        read(shard, from).then((rows) => rows.map((row): ShardRow => ({ ...row, shard: i }))),
      ),
    );
    const bound = pages
      .filter((p) => p.length >= want)
      .map((p) => p[p.length - 1] as ShardRow)
      .sort(newestFirst)[0];
    const known = pages
      .flat()
      .filter((row) => !bound || newestFirst(row, bound) <= 0)
      .sort(newestFirst);
    const winner = await winningShards(shards, known);
    for (const { shard, ...row } of known) {
      if (winner.get(keyOf(row)) !== shard) continue;
      out.push(row);
      if (out.length === want) return out;
    }
    if (!bound) return out;
    from = [bound.created_at, bound.agent, bound.session];
  }
}

/**
 * For each (agent, session) of `rows`, the shard holding its winning row, looked up in
 * every shard without the page's filters (a session's stale copy must not stand in for a
 * winning row that does not match them): latest updated_at, ties to the earlier shard.
 */
async function winningShards(
  shards: readonly D1Database[],
  rows: readonly SessionRow[],
): Promise<Map<string, number>> {
  const keys = JSON.stringify([...new Set(rows.map(keyOf))].map((k) => JSON.parse(k)));
  const copies = await Promise.all(
    shards.map((shard) =>
      shard
        .prepare(
          "SELECT agent, session, updated_at FROM da_sessions WHERE (agent, session) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
        )
        .bind(keys)
        .all<{ agent: string; session: string; updated_at: number }>()
        .then((r) => r.results),
    ),
  );
  const best = new Map<string, { shard: number; updated: number }>();
  for (const [shard, list] of copies.entries())
    for (const copy of list) {
      const key = keyOf(copy);
      const seen = best.get(key);
      if (!seen || copy.updated_at > seen.updated)
        best.set(key, { shard, updated: copy.updated_at });
    }
  return new Map([...best].map(([key, { shard }]) => [key, shard]));
}

function keyOf(row: { readonly agent: string; readonly session: string }): string {
  return JSON.stringify([row.agent, row.session]);
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
  checkDay(query.from, "from");
  checkDay(query.to, "to");
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

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks a usage query's day: YYYY-MM-DD naming a day that exists (month 01-12, day within
 * the month, Gregorian leap years). `Date.parse` alone is not enough: it accepts 2026-02-30.
 * @throws BadRequestError `invalid_query` (400) naming `key` otherwise.
 */
export function checkDay(value: string | undefined, key: string): void {
  if (value === undefined) return;
  const ms = DAY.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value)
    throw new BadRequestError(
      "invalid_query",
      `${key}="${String(value).slice(0, 40)}" is not a calendar day; use a real UTC day as YYYY-MM-DD (2026-02-28, not 2026-02-30)`,
    );
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
