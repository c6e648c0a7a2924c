import {
  BadRequestError,
  MethodNotAllowedError,
  NotFoundError,
  type PriceTable,
  RUN_STATUS_AFTER,
  type SessionQuery,
  type SessionStatus,
  TerminalError,
} from "@durable-agents/core";
import {
  checkDay,
  type IndexDb,
  listSessions,
  MAX_SESSIONS_PAGE,
  type UsageQuery,
  usageRollup,
} from "./d1-queries.ts";
import { type IndexShardOptions, indexShards, shardBindings } from "./shards.ts";

export interface IndexRouteOptions {
  readonly prices?: PriceTable;
  /** The index's D1 bindings; with `shards` unset, every shard found by name (see indexShards). */
  readonly index: IndexShardOptions;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/;
const KINDS = new Set(["model", "tool", "subagent", "metric"]);

/**
 * `GET /sessions` and `GET /usage`: cross-session reads of the D1 index, served by
 * `d1Index(...).serve` after the router's check (a token with the `admin` scope for `*`,
 * mintIndexToken, or your authorize).
 */
export async function handleIndexRequest(
  request: Request,
  env: Record<string, unknown>,
  options: IndexRouteOptions,
): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== "GET")
    throw new MethodNotAllowedError(request.method, url.pathname, ["GET"]);
  const index = options.index;
  const [binding] =
    index.shards === undefined ? [index.binding ?? "INDEX_DB"] : shardBindings(index);
  if (binding === undefined || env[binding] === undefined)
    throw new NotFoundError(
      "index_not_configured",
      `${url.pathname} reads the D1 index; bind a D1 database as ${binding} in wrangler.jsonc (d1_databases)`,
    );
  const { dbs } = indexShards(env, index);
  try {
    return await query(url, dbs, options);
  } catch (error) {
    throw indexQueryError(error);
  }
}

/** A D1 error as the index reports it: "no such table: da_..." is `index_not_migrated`. */
export function indexQueryError(error: unknown): unknown {
  if (error instanceof Error && /no such table: da_/.test(error.message))
    return new TerminalError(
      "index_not_migrated",
      `a D1 index shard has no tables; in wrangler.jsonc set each index database's "migrations_dir" (d1_databases) to node_modules/@durable-agents/cloudflare/src/d1/migrations and run \`wrangler d1 migrations apply <database_name>\` for each (with --local for wrangler dev), or call createStore(env).runMigrations()`,
    );
  return error;
}

async function query(url: URL, db: IndexDb, options: IndexRouteOptions): Promise<Response> {
  const params = url.searchParams;
  const get = (key: string) => params.get(key) ?? undefined;
  if (url.pathname === "/sessions") {
    const limit = get("limit");
    return Response.json(
      await listSessions(
        db,
        checkSessionQuery({
          agent: get("agent"),
          status: get("status"),
          user: get("user"),
          tag: get("tag"),
          // A query string's limit is text: only plain digits count as a number.
          limit: limit === undefined ? undefined : /^\d{1,4}$/.test(limit) ? Number(limit) : limit,
          cursor: get("cursor"),
        }),
      ),
    );
  }
  return Response.json(
    await usageRollup(
      db,
      checkUsageQuery({ from: get("from"), to: get("to"), agent: get("agent"), kind: get("kind") }),
      options.prices,
    ),
  );
}

/**
 * The checked form of a session query (`GET /sessions`'s parameters, `store.findSessionIds`'s
 * query): `agent`, `user` and `tag` names, `status` a session's (`idle`, `running`, `waiting`,
 * `completed`, `failed`, `interrupted`, `aborted`), `limit` an integer 1-200, `cursor` a
 * previous page's `nextCursor` (up to 1,000 characters); absent fields are no filter. Throws
 * 400 `invalid_query` naming the bad field.
 */
export function checkSessionQuery(
  query: {
    readonly [K in keyof SessionQuery]?: unknown;
  },
): SessionQuery {
  const { limit, cursor } = query;
  if (
    limit !== undefined &&
    !(Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= MAX_SESSIONS_PAGE)
  )
    throw new BadRequestError(
      "invalid_query",
      `limit must be an integer from 1 to ${MAX_SESSIONS_PAGE}`,
    );
  if (cursor !== undefined && !(typeof cursor === "string" && cursor.length <= 1000))
    throw new BadRequestError(
      "invalid_query",
      "cursor must be the nextCursor of the previous page",
    );
  const { status } = query;
  if (status !== undefined && !(typeof status === "string" && STATUSES.has(status)))
    throw new BadRequestError(
      "invalid_query",
      `status="${String(status).slice(0, 40)}" is not a session status; use one of ${[...STATUSES].join(", ")}`,
    );
  return {
    agent: checkName(query.agent, "agent"),
    status: status as string | undefined,
    user: checkName(query.user, "user"),
    tag: checkName(query.tag, "tag"),
    limit: limit as number | undefined,
    cursor: cursor as string | undefined,
  };
}

/**
 * The checked form of a usage query (`GET /usage`'s parameters, `store.usageRollup`'s query):
 * `from`/`to` UTC days YYYY-MM-DD (`from` not after `to`), `agent` a name, `kind` one of model, tool, subagent, metric;
 * absent fields are no filter. Throws 400 `invalid_query` naming the bad field.
 */
export function checkUsageQuery(query: {
  readonly from?: unknown;
  readonly to?: unknown;
  readonly agent?: unknown;
  readonly kind?: unknown;
}): UsageQuery {
  const { kind } = query;
  if (kind !== undefined && !(typeof kind === "string" && KINDS.has(kind)))
    throw new BadRequestError("invalid_query", `kind must be one of ${[...KINDS].join(", ")}`);
  const from = day(query.from, "from");
  const to = day(query.to, "to");
  // Days are YYYY-MM-DD, so their string order is their calendar order.
  if (from !== undefined && to !== undefined && from > to)
    throw new BadRequestError(
      "invalid_query",
      `from=${from} is after to=${to}: both are calendar days, inclusive; give from on or before to`,
    );
  return {
    from,
    to,
    agent: checkName(query.agent, "agent"),
    kind: kind as UsageQuery["kind"],
  };
}

/**
 * What an index row's status can be: a session's status (SessionStatus), `idle` (a session
 * listed for its usage before any run) or the status a run event leaves (RUN_STATUS_AFTER).
 */
const STATUSES: ReadonlySet<string> = new Set<SessionStatus>([
  "idle",
  ...Object.values(RUN_STATUS_AFTER).filter((status) => status !== undefined),
]);

function checkName(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !NAME.test(value))
    throw new BadRequestError(
      "invalid_query",
      `${key}="${String(value).slice(0, 40)}" is invalid; use 1-200 letters, digits or _ . : @ / -`,
    );
  return value;
}

/** A usage day: a string, then the one calendar rule (`checkDay` in d1-queries.ts). */
function day(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw new BadRequestError("invalid_query", `${key} must be a UTC day, YYYY-MM-DD`);
  checkDay(value, key);
  return value;
}
