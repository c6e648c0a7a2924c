import type { Clock } from "../clock.ts";
import { ConflictError, PayloadTooLargeError } from "../errors/http-errors.ts";
import { type Migration, migrate } from "../sql/migrate.ts";
import type { SqlPort } from "../sql/port.ts";
import { utf8Exceeds } from "../utf8.ts";
import type { EventKind, LedgerEvent, NewEvent } from "./events.ts";
import type { Projection } from "./projection.ts";

/**
 * The append-only ledger of one session.
 *
 * Invariants:
 * 1. `seq` starts at 1 and has no gaps; a stored event never changes.
 * 2. `append` is the only writer of `events`. Every projection is updated in
 *    the same transaction as the insert; if any reducer throws, nothing of the
 *    batch is stored and the in-memory tail is restored.
 * 3. The cost of an append does not depend on the ledger's length: the tail is
 *    kept in memory, and projections touch rows by key.
 * 4. After `session.closed`, nothing more is appended: closure is final.
 * 5. Reactors (work that answers a new fact, such as an `on` subscription's due row) run in
 *    the append's transaction for new facts only: never on a rebuild, never for copied
 *    history (invariant 7).
 * 6. Every listener (`onAppend`) sees every committed batch, once, in the same tick: a listener
 *    that throws keeps no other from it (what follows the rows in memory, such as the run
 *    driver's records, would be left behind them); `append` then throws its error, after all.
 * 7. Copied history (a fork's prefix: events appended with their original `ts`) is a prefix
 *    of the ledger, and its last seq (`copiedThrough`) is stored in the same transaction
 *    (`ledger_copied`). Projections are told, on append and on every rebuild alike, whether
 *    an event is copied, so what they derive from a copied event (usage: spent and counted
 *    by the session it was copied from) never depends on when they were built.
 */
const LEDGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "events",
    up: [
      "CREATE TABLE events (seq INTEGER PRIMARY KEY, run_id TEXT, kind TEXT NOT NULL, data TEXT NOT NULL, ts INTEGER NOT NULL)",
      "CREATE TABLE projection_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    ],
  },
  {
    version: 2,
    name: "copied history",
    up: [
      "CREATE TABLE ledger_copied (id INTEGER PRIMARY KEY CHECK (id = 1), through INTEGER NOT NULL)",
    ],
  },
  {
    version: 3,
    name: "when the copy was made",
    // Null for a fork copied before this migration: its start is then its first event's.
    up: ["ALTER TABLE ledger_copied ADD COLUMN copied_at INTEGER"],
  },
];

const REBUILD_BATCH = 500;

/**
 * When the session began, epoch ms: for a fork, when its copy was made (its first batch of
 * copied history, `ledger_copied.copied_at`), since its first event keeps the source's `ts`;
 * else the `ts` of its ledger's first event; undefined while the ledger is empty. It never
 * changes (invariant 1; the copy time is written once), so anything derived from it (the D1
 * index's `createdAt`) is the same on every write and rebuild.
 */
export function ledgerStartedAt(sql: SqlPort): number | undefined {
  const [row] = sql.exec<{ ts: number | null }>(
    "SELECT coalesce((SELECT copied_at FROM ledger_copied WHERE id = 1), (SELECT ts FROM events WHERE seq = 1)) AS ts",
  );
  return row?.ts ?? undefined;
}

/** Largest event payload, in bytes of JSON (DO SQLite caps a row at 2 MB). See docs/limits.md. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export type AppendListener = (events: readonly LedgerEvent[]) => void;

/** Writes that answer one new fact, in its append's transaction (invariant 5). Throwing rolls it back. */
export type Reactor = (sql: SqlPort, event: LedgerEvent) => void;

interface EventRow {
  seq: number;
  run_id: string | null;
  kind: string;
  data: string;
  ts: number;
}

export class Ledger {
  readonly #sql: SqlPort;
  readonly #clock: Clock;
  readonly #projections: readonly Projection[];
  readonly #listeners = new Set<AppendListener>();
  readonly #reactors: readonly Reactor[];
  #tail = 0;
  #copiedThrough = 0;
  #closed = false;

  constructor(
    sql: SqlPort,
    clock: Clock,
    projections: readonly Projection[],
    reactors: readonly Reactor[] = [],
  ) {
    this.#sql = sql;
    this.#clock = clock;
    this.#projections = projections;
    this.#reactors = reactors;
    migrate(sql, "ledger", LEDGER_MIGRATIONS);
    this.#tail = sql.exec<{ t: number | null }>("SELECT max(seq) AS t FROM events")[0]?.t ?? 0;
    this.#copiedThrough =
      sql.exec<{ through: number }>("SELECT through FROM ledger_copied WHERE id = 1")[0]?.through ??
      0;
    this.#closed = this.#tail > 0 && this.read(this.#tail - 1, 1)[0]?.kind === "session.closed";
    this.#syncProjections();
    for (const projection of projections)
      if (projection.migrations)
        migrate(sql, `projection:${projection.name}`, projection.migrations);
  }

  /** seq of the last event; 0 when empty. */
  get tail(): number {
    return this.#tail;
  }

  /**
   * seq of the last event copied from another session (a fork's prefix, invariant 7); 0 when
   * the session copied nothing. Events up to it are history, not facts of this session.
   */
  get copiedThrough(): number {
    return this.#copiedThrough;
  }

  /** True once `session.closed` is appended: the ledger then refuses every event (invariant 4). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws 409 `session_closed` once the session is closed (invariant 4): what `append` checks first. */
  assertOpen(): void {
    if (this.#closed) {
      throw new ConflictError(
        "session_closed",
        "this session is closed and takes no more events; start a new session, or fork this one",
      );
    }
  }

  /**
   * Appends events in one transaction with their projections and `effects`
   * (writes that must commit with these facts, e.g. a tool's own rows). An event with a
   * `ts` is copied history (invariant 7); after an event of this session's own, one is a
   * programming error (thrown, nothing stored).
   */
  append(events: readonly NewEvent[], effects?: (sql: SqlPort) => void): LedgerEvent[] {
    return this.#append(events, effects);
  }

  /**
   * Appends `events`, then the events `next` decides from the projections those built, in one
   * transaction and one batch for listeners: both are stored, or neither (a fork's copied
   * prefix and its `run.interrupted`, which must never land alone).
   */
  appendThen(events: readonly NewEvent[], next: () => readonly NewEvent[]): LedgerEvent[] {
    return this.#append(events, undefined, next);
  }

  #append(
    events: readonly NewEvent[],
    effects?: (sql: SqlPort) => void,
    next?: () => readonly NewEvent[],
  ): LedgerEvent[] {
    this.assertOpen();
    const before = this.#tail;
    const copiedBefore = this.#copiedThrough;
    const ts = this.#clock.now();
    let stored: LedgerEvent[];
    try {
      stored = this.#sql.transaction(() => {
        // When the copy was made (its first batch's time: the fork's start), written before the
        // batch's events so the projections they run already read it (ledgerStartedAt).
        if (copiedBefore === 0 && events[0]?.ts !== undefined)
          this.#sql.exec(
            "INSERT INTO ledger_copied (id, through, copied_at) VALUES (1, 0, ?) ON CONFLICT (id) DO NOTHING",
            ts,
          );
        const out = events.map((event) => this.#insert(event, ts));
        if (next) for (const event of next()) out.push(this.#insert(event, ts));
        // One row says how far the copy goes, written once per batch that copied (invariant 7).
        if (this.#copiedThrough !== copiedBefore)
          this.#sql.exec(
            "INSERT INTO ledger_copied (id, through, copied_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET through = excluded.through",
            this.#copiedThrough,
            ts,
          );
        effects?.(this.#sql);
        return out;
      });
    } catch (error) {
      this.#tail = before;
      this.#copiedThrough = copiedBefore;
      throw error;
    }
    if (stored.at(-1)?.kind === "session.closed") this.#closed = true;
    this.#notify(stored);
    return stored;
  }

  /** Inserts one event at the tail and applies every projection (and reactor) to it; inside #append's transaction only. */
  #insert(event: NewEvent, ts: number): LedgerEvent {
    const seq = this.#tail + 1;
    const copied = event.ts !== undefined;
    if (copied) this.#copy(seq);
    const row = {
      seq,
      runId: event.runId,
      kind: event.kind,
      data: event.data,
      ts: event.ts ?? ts,
    } as LedgerEvent;
    const data = eventJson(event.kind, event.data);
    this.#sql.exec(
      "INSERT INTO events (seq, run_id, kind, data, ts) VALUES (?, ?, ?, ?, ?)",
      seq,
      event.runId,
      event.kind,
      data,
      row.ts,
    );
    for (const projection of this.#projections) projection.apply(this.#sql, row, copied);
    if (!copied) for (const react of this.#reactors) react(this.#sql, row);
    this.#tail = seq;
    return row;
  }

  /** Takes `seq` as copied history (invariant 7): only while nothing of this session's own precedes it. */
  #copy(seq: number): void {
    if (this.#copiedThrough !== seq - 1) {
      throw new Error(
        `event ${seq} carries a ts (copied history), but the ledger already has events of its own: copy history only into an empty session`,
      );
    }
    this.#copiedThrough = seq;
  }

  /** Events with seq > `afterSeq`, oldest first, at most `limit`. */
  read(afterSeq: number, limit = 1000): LedgerEvent[] {
    return this.#sql
      .exec<EventRow>(
        "SELECT seq, run_id, kind, data, ts FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .map(toEvent);
  }

  /** The seq of run `runId`'s latest event, 0 if it has none (read from the tail back). */
  lastSeqOf(runId: string): number {
    return (
      this.#sql.exec<{ seq: number }>(
        "SELECT seq FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
        runId,
      )[0]?.seq ?? 0
    );
  }

  /**
   * The latest event of `kind` after seq `afterSeq` and before `beforeSeq` (default: any), or
   * undefined (read from `beforeSeq`, or the tail, back).
   */
  latest<K extends EventKind>(
    kind: K,
    afterSeq = 0,
    beforeSeq = Number.MAX_SAFE_INTEGER,
  ): LedgerEvent<K> | undefined {
    const row = this.#sql.exec<EventRow>(
      "SELECT seq, run_id, kind, data, ts FROM events WHERE seq > ? AND seq < ? AND kind = ? ORDER BY seq DESC LIMIT 1",
      afterSeq,
      beforeSeq,
      kind,
    )[0];
    return row && (toEvent(row) as LedgerEvent<K>);
  }

  /**
   * Every listener gets the committed batch (invariant 6), even when one before it throws: the
   * batch is stored whatever a listener does. The first error is thrown again after all ran.
   */
  #notify(stored: readonly LedgerEvent[]): void {
    let failure: { readonly error: unknown } | undefined;
    for (const listener of this.#listeners) {
      try {
        listener(stored);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Called after every committed append, in the same tick (invariant 6). */
  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops and replays one projection (or all). Not on any hot path. */
  rebuild(names?: readonly string[]): void {
    const targets = this.#projections.filter((p) => !names || names.includes(p.name));
    this.#sql.transaction(() => {
      for (const projection of targets) {
        for (const statement of projection.drop) this.#sql.exec(statement);
        for (const statement of projection.create) this.#sql.exec(statement);
      }
      for (let after = 0; ; ) {
        const batch = this.read(after, REBUILD_BATCH);
        for (const event of batch) {
          const copied = event.seq <= this.#copiedThrough;
          for (const projection of targets) projection.apply(this.#sql, event, copied);
        }
        const last = batch.at(-1);
        if (!last) break;
        after = last.seq;
      }
      for (const projection of targets) {
        this.#sql.exec(
          "INSERT INTO projection_versions (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version",
          projection.name,
          projection.version,
        );
      }
    });
  }

  /** The version each projection's rows were built with, by name (absent: never built). */
  storedVersions(): Map<string, number> {
    return new Map(
      this.#sql
        .exec<{ name: string; version: number }>("SELECT name, version FROM projection_versions")
        .map((row) => [row.name, row.version]),
    );
  }

  #syncProjections(): void {
    const stored = this.storedVersions();
    const stale = this.#projections
      .filter((p) => p.rebuild !== "explicit" && stored.get(p.name) !== p.version)
      .map((p) => p.name);
    if (stale.length > 0) this.rebuild(stale);
  }
}

/**
 * An event payload as stored, or a `PayloadTooLargeError` (413) when it is over
 * `MAX_EVENT_BYTES`. Exported so a writer can refuse early, before it stages anything.
 */
export function eventJson(kind: EventKind, data: unknown): string {
  const json = JSON.stringify(data);
  if (utf8Exceeds(MAX_EVENT_BYTES, json))
    throw new PayloadTooLargeError(`the ${kind} event`, MAX_EVENT_BYTES);
  return json;
}

function toEvent(row: EventRow): LedgerEvent {
  return {
    seq: row.seq,
    runId: row.run_id,
    kind: row.kind as EventKind,
    data: JSON.parse(row.data),
    ts: row.ts,
  } as LedgerEvent;
}
