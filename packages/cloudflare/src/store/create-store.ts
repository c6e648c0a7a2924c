/**
 * The store API for Worker code: a typed facade over the session objects (DO RPC) and the
 * D1 index, so a Worker reads sessions and moves their status without HTTP.
 *
 * Invariants:
 * 1. Nothing here reads a table: each session call is `serveStoreCall` in the session's
 *    object (the functions behind `GET .../status`, `.../messages`, `.../checkpoints`,
 *    `.../usage`), and each index call is a public function of `d1/` (`listSessions`,
 *    `usageRollup`, `applyRetention`, the migrations), so a rule lives in one place.
 * 2. The one write, `compareAndSetStatus`, is a precondition on a session command
 *    (core/src/commands/status-transition.ts), dispatched like any other transport's.
 * 3. Authority: Worker code is trusted. Holding the namespace binding already lets it reach
 *    any session object, so the store asks for no token (TRUSTED_CALLER); command hooks
 *    still run. Never hand a store method's input straight from an untrusted request
 *    without your own check: that is what the HTTP routes and their tokens are for.
 */
import type {
  Checkpoint,
  CheckpointsPage,
  CheckpointsPageQuery,
  MessagesPage,
  MessagesPageQuery,
  PriceTable,
  SessionQuery,
  SessionStatus,
  StatusResponse,
  StatusTransitionResult,
  TargetStatus,
  UsageEntriesPage,
  UsageEntriesQuery,
  UsageView,
} from "@durable-agents/core";
import { BadRequestError, NotFoundError } from "@durable-agents/core";
import { checkId } from "../agent-object/session-path.ts";
import { listSessions, type UsageQuery, type UsageRow, usageRollup } from "../d1/d1-queries.ts";
import { applyRetention, type RetentionOptions } from "../d1/d1-retention.ts";
import type { SessionIndex } from "../d1/index-port.ts";
import { checkSessionQuery, checkUsageQuery, indexQueryError } from "../d1/index-routes.ts";
import { migrationVersion, pendingMigrations, runMigrations } from "../d1/migrations.ts";
import { indexShards } from "../d1/shards.ts";
import { sessionCall } from "./store-rpc.ts";

export interface StoreOptions {
  /** The session objects' Durable Object binding (createAgentServer's `binding`). Default "AGENTS". */
  readonly binding?: string;
  /**
   * The server's index (`d1Index(...)`, the value given to createAgentServer): the index
   * calls use its binding and shards. When given, `indexBinding` and `indexShards` are not read.
   */
  readonly index?: SessionIndex;
  /** The D1 index binding, without `index` (d1Index's `binding`). Default "INDEX_DB". */
  readonly indexBinding?: string;
  /**
   * The index's shards, without `index` (d1Index's `shards`). By default every shard found by
   * name: `indexBinding`, then `indexBinding_1`, `_2`, … while bound. Index calls read and
   * migrate all of them.
   */
  readonly indexShards?: number | readonly string[];
}

/** One session, read and moved over DO RPC. Every method rejects with a DurableAgentsError (`code`, `status`). */
export interface SessionStore {
  readonly agent: string;
  readonly session: string;
  /** Whether anything was ever written to the session (its ledger has an event). */
  exists(): Promise<boolean>;
  /** What `GET .../status` answers: status, runId, step, offset, closed, exists. */
  status(): Promise<StatusResponse>;
  /**
   * Moves the session from `expected` (one status or any of several) to `next` through the
   * command that makes the move (STATUS_TRANSITIONS: interrupt, abort, resume, retry,
   * close). `result` is that command's StatusView. Rejects with 400
   * `illegal_status_transition` (no such move), 409 `status_conflict` (the session is not
   * `expected`; details carry the `status` found), or the command's own errors (for example
   * a run waiting on approvals cannot `continue`).
   */
  compareAndSetStatus(
    expected: SessionStatus | readonly SessionStatus[],
    next: TargetStatus,
    options?: { readonly reason?: string },
  ): Promise<StatusTransitionResult>;
  /**
   * How many times a run was put back to running (resumes, approvals, retries): the
   * latest run's by default (`runId: null` and 0 before any run). 404 `unknown_run`.
   */
  resumeCount(runId?: string): Promise<{ runId: string | null; resumeCount: number }>;
  /** A page of messages, as `GET .../messages` with the same query (cursor, before, limit 1-500). */
  messages(query?: MessagesPageQuery): Promise<MessagesPage>;
  /** One checkpoint by id (the seq it was taken at). 404 `unknown_checkpoint`. */
  checkpoint(id: string): Promise<Checkpoint>;
  /** The latest checkpoint of a run (default: the latest run), or null. 404 `unknown_run`. */
  latestCheckpoint(runId?: string): Promise<Checkpoint | null>;
  /** Checkpoints in ledger order: pass `nextCursor` back as `cursor`; `limit` 1-200, `runId`. */
  checkpoints(query?: CheckpointsPageQuery): Promise<CheckpointsPage>;
  /** What `GET .../usage` answers: per model, tool, sub-agent and metric, and the roll-up including sub-agents, priced with the server's `prices`. */
  usage(): Promise<UsageView>;
  /**
   * Usage entries one by one (a model call's tokens, a tool call, a sub-agent answer, an
   * app metric), oldest first, filtered by `kinds`, `runId` and the inclusive step range
   * `fromStep`-`toStep`; `limit` 1-1000 (default 100) and `offset`.
   */
  usageEntries(query?: UsageEntriesQuery): Promise<UsageEntriesPage>;
}

/** A session found in the index. */
export interface SessionId {
  readonly agent: string;
  readonly session: string;
}

/** What deleteOldEntries removed from the index. */
export interface DeletedEntries {
  readonly usage: number;
  readonly sessions: number;
  /** Rows older than the cutoff are left: call again. */
  readonly more: boolean;
}

export interface AgentStore {
  /** One session's store (no I/O until a method is called). Throws 400 `invalid_path` for a malformed id. */
  session(agent: string, session: string): SessionStore;
  /**
   * Session ids from the D1 index, newest first, filtered by `agent`, `status`, `user` and
   * `tag`; `limit` 1-200 (default 50), `cursor` = the previous page's `nextCursor`. The
   * index lags the sessions by its delivery delay (IndexOptions.delayMs).
   */
  findSessionIds(
    query?: SessionQuery,
  ): Promise<{ sessions: SessionId[]; nextCursor: string | null }>;
  /** Usage across sessions from the index, by day, agent, kind and name (as `GET /usage`). */
  usageRollup(query?: UsageQuery, prices?: PriceTable): Promise<{ rows: UsageRow[] }>;
  /**
   * Deletes index entries older than `days` (usage entries, and sessions not updated for
   * that long that are no longer running or waiting and have no usage left), in up to
   * `passes` (default 1) bounded
   * passes of `chunk` rows per table (default 500). Sessions' own ledgers are untouched.
   */
  deleteOldEntries(
    options: RetentionOptions & { readonly passes?: number },
  ): Promise<DeletedEntries>;
  /** Applies the index migrations the database lacks; resolves to the names applied. */
  runMigrations(): Promise<string[]>;
  /** Whether every index migration this package has is applied. */
  isMigrated(): Promise<boolean>;
  /** How many of the index migrations are applied (0 on an empty database; latest: INDEX_SCHEMA_VERSION). */
  migrationVersion(): Promise<number>;
}

/**
 * The store for Worker code, over the bindings createAgentServer uses.
 * @example
 * const store = createStore(env);
 * const s = store.session("assistant", "s1");
 * if ((await s.status()).status === "running") await s.compareAndSetStatus("running", "interrupted");
 */
export function createStore(env: object, options: StoreOptions = {}): AgentStore {
  const bindings = env as Record<string, unknown>;
  const binding = options.binding ?? "AGENTS";
  const indexBinding = options.index
    ? (options.index.options.binding ?? "INDEX_DB")
    : (options.indexBinding ?? "INDEX_DB");
  const shards = options.index ? options.index.options.shards : options.indexShards;
  const db = (): readonly D1Database[] => {
    if (bindings[indexBinding] === undefined)
      throw new NotFoundError(
        "index_not_configured",
        `the store's index calls read the D1 index; bind a D1 database as ${indexBinding} (or pass createStore(env, { indexBinding }))`,
      );
    return indexShards(bindings, { binding: indexBinding, shards }).dbs;
  };
  const index = async <T>(work: (db: readonly D1Database[]) => Promise<T>): Promise<T> => {
    try {
      return await work(db());
    } catch (error) {
      throw indexQueryError(error);
    }
  };
  return {
    session: (agent, session) =>
      sessionStore(bindings, binding, checkId(agent, "agent name"), checkId(session, "session id")),
    async findSessionIds(query = {}) {
      // GET /sessions' own check: the same 400 invalid_query for the same bad query.
      const checked = checkSessionQuery(query ?? {});
      const page = await index((d) => listSessions(d, checked));
      return {
        sessions: page.sessions.map(({ agent, session }) => ({ agent, session })),
        nextCursor: page.nextCursor,
      };
    },
    async usageRollup(query = {}, prices) {
      // GET /usage's own check: the same 400 invalid_query for the same bad query.
      const checked = checkUsageQuery(query ?? {});
      return index((d) => usageRollup(d, checked, prices));
    },
    async deleteOldEntries(options) {
      if (typeof options !== "object" || options === null)
        throw new BadRequestError(
          "invalid_query",
          "deleteOldEntries needs its options: { days } (a positive integer), optionally chunk and passes",
        );
      const { passes = 1, ...retention } = options;
      if (!(Number.isSafeInteger(passes) && passes > 0))
        throw new BadRequestError("invalid_query", "passes must be a positive integer");
      const total = { usage: 0, sessions: 0, more: true };
      for (let pass = 0; pass < passes && total.more; pass++) {
        const deleted = await index((d) =>
          applyRetention(d, retention).catch((error: unknown) => {
            // applyRetention's own checks of days and chunk, as the typed 400 they are here.
            if (error instanceof RangeError)
              throw new BadRequestError("invalid_query", error.message);
            throw error;
          }),
        );
        total.usage += deleted.usage;
        total.sessions += deleted.sessions;
        total.more = deleted.more;
      }
      return total;
    },
    // Every shard; the names applied to any of them, once each.
    runMigrations: async () => [
      ...new Set((await Promise.all(db().map((d) => runMigrations(d)))).flat()),
    ],
    isMigrated: async () =>
      (await Promise.all(db().map((d) => pendingMigrations(d)))).every((p) => p.length === 0),
    // The least migrated shard's version.
    migrationVersion: async () =>
      Math.min(...(await Promise.all(db().map((d) => migrationVersion(d))))),
  };
}

function sessionStore(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
  session: string,
): SessionStore {
  const call = sessionCall(env, binding, agent, session);
  return {
    agent,
    session,
    exists: async () => (await call<StatusResponse>({ op: "status" })).exists,
    status: () => call({ op: "status" }),
    compareAndSetStatus: (expected, next, options = {}) =>
      call({ op: "setStatus", input: { expected, next, ...options } }),
    resumeCount: (runId) => call({ op: "resumeCount", ...(runId === undefined ? {} : { runId }) }),
    messages: (query = {}) => call({ op: "messages", query }),
    checkpoint: (id) => call({ op: "checkpoint", id }),
    latestCheckpoint: (runId) =>
      call({ op: "latestCheckpoint", ...(runId === undefined ? {} : { runId }) }),
    checkpoints: (query = {}) => call({ op: "checkpoints", query }),
    usage: () => call({ op: "usage" }),
    usageEntries: (query = {}) => call({ op: "usageEntries", query }),
  };
}
