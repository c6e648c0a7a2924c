import { DurableAgentsError, TerminalError } from "../errors/base.ts";
import { ConflictError, NotFoundError, PayloadTooLargeError } from "../errors/http-errors.ts";
import type { AppEventKind, JsonValue, LedgerEvent } from "../ledger/events.ts";
import { type Ledger, MAX_EVENT_BYTES } from "../ledger/ledger.ts";
import type { Projection } from "../ledger/projection.ts";
import { type Migration, migrate } from "../sql/migrate.ts";
import type { SqlPort } from "../sql/port.ts";
import { utf8Exceeds } from "../utf8.ts";
import type {
  AnyProjection,
  ProjectionPage,
  ProjectionReader,
  ProjectionStore,
} from "./define-projection.ts";

/**
 * The application projections of one session.
 *
 * Invariants:
 * 1. A projection whose rows are current is applied in the same transaction as every
 *    insert of one of its events (it is a ledger `Projection`); a reducer that throws rolls
 *    the insert back (`ProjectionFailedError`, unless it threw a typed error of its own).
 * 2. Never rebuilt silently: rows built by another version, or never built while the
 *    ledger already has events, are `needs_rebuild`. Such a projection is neither applied
 *    nor read (409 `projection_needs_rebuild`) until `rebuild`, which replays the ledger in
 *    batches (`Ledger.rebuild`) and records the version, in one transaction.
 * 3. Its rows live in its own table, `app_<name>`, written only by its reducer.
 * 4. An event of its kinds appended while it is not applied marks it skipped
 *    (`app_projection_skips`, in the append's transaction). A skipped projection is
 *    `needs_rebuild` whatever the code's version (a rollback to the stored version does not
 *    bring back the event it missed) until a rebuild, whose drop clears the mark.
 */
export type ProjectionState = "current" | "needs_rebuild";

/** `GET .../projections`: one entry per registered projection. */
export interface ProjectionStatus {
  readonly name: string;
  /** The version the server declares. */
  readonly version: number;
  /** The version its stored rows were built with; null when never built. */
  readonly storedVersion: number | null;
  readonly status: ProjectionState;
}

const LIST_LIMIT = 1000;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "skips",
    up: ["CREATE TABLE app_projection_skips (name TEXT PRIMARY KEY, first_seq INTEGER NOT NULL)"],
  },
];

/** 404 `unknown_projection`. */
export class UnknownProjectionError extends NotFoundError {
  override name = "UnknownProjectionError";
  constructor(name: string, known: readonly string[]) {
    super(
      "unknown_projection",
      `no projection "${name.slice(0, 64)}"; this server has: ${known.join(", ") || "(none)"} (register them with createAgentServer({ projections }))`,
      { details: { available: known } },
    );
  }
}

/** 409 `projection_needs_rebuild`: its rows were made by another version (or never made, or missed events). */
export class ProjectionNeedsRebuildError extends ConflictError {
  override name = "ProjectionNeedsRebuildError";
  constructor(status: ProjectionStatus) {
    super(
      "projection_needs_rebuild",
      `projection "${status.name}" is version ${status.version} but ${status.storedVersion === status.version ? "this session's rows miss events appended while it was stale" : `this session's rows were built by ${status.storedVersion === null ? "no version" : `version ${status.storedVersion}`}`}; rebuild it with POST .../projections {"rebuild":"${status.name}"}`,
      { details: { ...status } },
    );
  }
}

/** A reducer threw something untyped: the event it was reducing is not stored. */
export class ProjectionFailedError extends TerminalError {
  override name = "ProjectionFailedError";
  constructor(name: string, event: LedgerEvent, cause: unknown) {
    super(
      "projection_failed",
      `projection "${name}" failed to reduce ${event.kind} (seq ${event.seq}), so the event was not stored: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { projection: name, kind: event.kind, seq: event.seq } },
    );
    this.projection = name;
    this.seq = event.seq;
  }
  readonly projection: string;
  readonly seq: number;
}

/**
 * 500 `projection_failed` from a rebuild: a reducer threw untyped while replaying the stored
 * ledger. Nothing changed: the rebuild's transaction is rolled back, the events stay stored.
 */
export class ProjectionRebuildFailedError extends TerminalError {
  override name = "ProjectionRebuildFailedError";
  constructor(failed: ProjectionFailedError, status: ProjectionState) {
    const cause = failed.cause;
    super(
      "projection_failed",
      `rebuild of projection "${failed.projection}" stopped at seq ${failed.seq}: the reducer threw ${cause instanceof Error ? cause.message : String(cause)}; the rebuild was rolled back and the projection stays ${status} (fix the reducer, or the event it cannot reduce, and rebuild again)`,
      { cause, details: { projection: failed.projection, seq: failed.seq, status } },
    );
  }
}

export class AppProjections {
  readonly #sql: SqlPort;
  readonly #definitions: ReadonlyMap<string, AnyProjection>;
  /** Names whose rows are current (applied on append, readable); see invariant 2. */
  readonly #current = new Set<string>();
  #ledger: Ledger | undefined;

  constructor(sql: SqlPort, definitions: readonly AnyProjection[]) {
    assertDistinctProjections(definitions);
    this.#sql = sql;
    this.#definitions = new Map(definitions.map((d) => [d.name, d]));
    migrate(sql, "app_projections", MIGRATIONS);
  }

  /** The ledger projections to open the ledger with (rebuilt only on request). */
  ledgerProjections(): Projection[] {
    return [...this.#definitions.values()].map((d) => this.#ledgerProjection(d));
  }

  /** Called once the ledger is open: finds which projections are current. */
  open(ledger: Ledger): void {
    this.#ledger = ledger;
    const stored = ledger.storedVersions();
    const skipped = new Set(
      this.#sql.exec<{ name: string }>("SELECT name FROM app_projection_skips").map((r) => r.name),
    );
    for (const d of this.#definitions.values()) {
      const version = stored.get(ledgerName(d.name));
      if (version === d.version && !skipped.has(d.name)) this.#current.add(d.name);
      // Nothing to replay yet: building it now is not a rebuild.
      else if (version === undefined && ledger.tail === 0) this.rebuild(d.name);
    }
  }

  status(): ProjectionStatus[] {
    return [...this.#definitions.keys()].sort().map((name) => this.#status(name));
  }

  /** Drops the projection's rows and replays the ledger into it (invariant 2). 404 for an unknown name. */
  rebuild(name: string): ProjectionStatus {
    this.#definition(name);
    const ledger = this.#ledger;
    if (!ledger) throw new Error("AppProjections.rebuild before open");
    const wasCurrent = this.#current.has(name);
    this.#current.add(name);
    try {
      ledger.rebuild([ledgerName(name)]);
    } catch (error) {
      if (!wasCurrent) this.#current.delete(name);
      if (error instanceof ProjectionFailedError && error.projection === name)
        throw new ProjectionRebuildFailedError(error, this.#status(name).status);
      throw error;
    }
    return this.#status(name);
  }

  /** Reads a current projection; 404 unknown, 409 `projection_needs_rebuild`. */
  reader(name: string): ProjectionReader {
    this.#definition(name);
    const table = tableOf(name);
    const check = () => {
      if (!this.#current.has(name)) throw new ProjectionNeedsRebuildError(this.#status(name));
    };
    return {
      get: <T extends JsonValue>(key: string) => {
        check();
        return getDoc<T>(this.#sql, table, key);
      },
      list: (options = {}): ProjectionPage => {
        check();
        const limit = Math.min(Math.max(1, options.limit ?? 100), LIST_LIMIT);
        const prefix = options.prefix ?? "";
        const rows = this.#sql.exec<{ key: string; value: string }>(
          `SELECT key, value FROM ${table} WHERE key > ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?`,
          options.after ?? "",
          prefix.length,
          prefix,
          limit + 1,
        );
        const page = rows.slice(0, limit).map((r) => ({ key: r.key, value: JSON.parse(r.value) }));
        return { rows: page, next: rows.length > limit ? (page.at(-1)?.key ?? null) : null };
      },
    };
  }

  #status(name: string): ProjectionStatus {
    const definition = this.#definition(name);
    const stored = this.#ledger?.storedVersions().get(ledgerName(name)) ?? null;
    return {
      name,
      version: definition.version,
      storedVersion: stored,
      status: this.#current.has(name) ? "current" : "needs_rebuild",
    };
  }

  #definition(name: string): AnyProjection {
    const definition = this.#definitions.get(name);
    if (!definition) throw new UnknownProjectionError(name, [...this.#definitions.keys()].sort());
    return definition;
  }

  #ledgerProjection(definition: AnyProjection): Projection {
    const table = tableOf(definition.name);
    const kinds = new Set<string>(definition.events.map((e) => e.kind));
    return {
      name: ledgerName(definition.name),
      version: definition.version,
      rebuild: "explicit",
      create: [`CREATE TABLE ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`],
      // The name is checked by defineProjection, so it is safe in SQL (as in tableOf).
      drop: [
        `DROP TABLE IF EXISTS ${table}`,
        `DELETE FROM app_projection_skips WHERE name = '${definition.name}'`,
      ],
      apply: (sql, event) => {
        if (!kinds.has(event.kind)) return;
        if (!this.#current.has(definition.name)) {
          // Invariant 4: remember the miss, so no later version can call these rows current.
          sql.exec(
            "INSERT INTO app_projection_skips (name, first_seq) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            definition.name,
            event.seq,
          );
          return;
        }
        const store = storeOf(sql, table, definition.name);
        try {
          definition.reduce(store, {
            seq: event.seq,
            runId: event.runId,
            kind: event.kind as AppEventKind,
            payload: event.data,
            ts: event.ts,
          });
        } catch (error) {
          if (error instanceof DurableAgentsError) throw error;
          throw new ProjectionFailedError(definition.name, event, error);
        }
      },
    };
  }
}

/** Refuses two projections of one name (their rows would share a table). */
export function assertDistinctProjections(definitions: readonly AnyProjection[]): void {
  const seen = new Set<string>();
  for (const { name } of definitions) {
    if (seen.has(name))
      throw new TypeError(
        `projection "${name}" is registered twice in createAgentServer({ projections }); each name needs exactly one definition`,
      );
    seen.add(name);
  }
}

function ledgerName(name: string): string {
  return `app:${name}`;
}

/** The name is checked by defineProjection (`[a-z][a-z0-9_]*`), so it is safe in SQL. */
function tableOf(name: string): string {
  return `app_${name}`;
}

function getDoc<T extends JsonValue>(sql: SqlPort, table: string, key: string): T | undefined {
  const row = sql.exec<{ value: string }>(`SELECT value FROM ${table} WHERE key = ?`, key)[0];
  return row ? (JSON.parse(row.value) as T) : undefined;
}

function storeOf(sql: SqlPort, table: string, name: string): ProjectionStore {
  return {
    get: <T extends JsonValue>(key: string) => getDoc<T>(sql, table, key),
    put: (key, value) => {
      sql.exec(
        `INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        key,
        documentJson(name, value),
      );
    },
    delete: (key) => {
      sql.exec(`DELETE FROM ${table} WHERE key = ?`, key);
    },
  };
}

function documentJson(name: string, value: JsonValue): string {
  const json = JSON.stringify(value);
  if (utf8Exceeds(MAX_EVENT_BYTES, json))
    throw new PayloadTooLargeError(`a document of projection "${name}"`, MAX_EVENT_BYTES);
  return json;
}
