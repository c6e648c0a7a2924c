import { type Migration, migrate } from "../sql/migrate.ts";
import type { SqlPort } from "../sql/port.ts";

/**
 * Due work: durable rows that say "run handler `kind` with `payload` at `dueAt`".
 *
 * Invariants:
 * 1. A row is claimed by setting `lease_until`; a row with a live lease is never
 *    claimed again. A lease that expires (its holder crashed or was evicted)
 *    makes the row claimable again: that is the redrive.
 * 2. `key` is unique: scheduling the same key again moves the existing row.
 *    A single-instance owner (a Durable Object) may instead release every
 *    lease when it starts again, since the old holder was itself.
 * 3. Rows name a registered kind, never a method; an unknown kind is an error
 *    the pump reports, not a row it skips.
 * 4. Scheduling a key that is claimed clears its lease and bumps its revision; the
 *    holder's `complete`, `release` and `renew` then change nothing (they act on the
 *    claimed revision only), so the newer schedule wins and the row runs again after its
 *    holder ends (the pump does not claim a row it is still running).
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "due_work",
    up: [
      "CREATE TABLE due_work (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_until INTEGER, last_error TEXT, created_at INTEGER NOT NULL)",
      "CREATE INDEX due_work_by_due ON due_work (due_at)",
    ],
  },
  {
    version: 2,
    name: "due_work_revision",
    up: ["ALTER TABLE due_work ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"],
  },
];

/** What a claim holds: the row and the revision it claimed. Outcomes apply only to that revision. */
export interface DueClaim {
  readonly id: number;
  readonly revision: number;
}

export interface DueItem {
  readonly id: number;
  readonly kind: string;
  readonly key: string;
  readonly payload: unknown;
  readonly dueAt: number;
  readonly attempts: number;
  readonly leaseUntil: number | null;
  readonly lastError: string | null;
  /** Bumped by every `schedule` of the key; see `DueClaim`. */
  readonly revision: number;
}

interface DueRow {
  id: number;
  kind: string;
  key: string;
  payload: string;
  due_at: number;
  attempts: number;
  lease_until: number | null;
  last_error: string | null;
  revision: number;
}

export class DueWork {
  readonly #sql: SqlPort;

  constructor(sql: SqlPort) {
    this.#sql = sql;
    migrate(sql, "due_work", MIGRATIONS);
  }

  /**
   * Creates or moves the row for `key`. A rescheduled row loses its lease and
   * attempts and gets a new revision, so a run of the old one that is still
   * going cannot complete or move it.
   */
  schedule(kind: string, key: string, payload: unknown, dueAt: number, now: number): void {
    bump(this.#sql);
    this.#sql.exec(
      "INSERT INTO due_work (kind, key, payload, due_at, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, due_at = excluded.due_at, attempts = 0, lease_until = NULL, last_error = NULL, revision = due_work.revision + 1",
      kind,
      key,
      JSON.stringify(payload),
      dueAt,
      now,
    );
  }

  /**
   * Claims the earliest due row without a live lease, or returns undefined. `running`: ids
   * the caller is still running (rescheduled meanwhile), which it must not claim again yet.
   */
  claim(now: number, leaseMs: number, running: ReadonlySet<number> = NONE): DueItem | undefined {
    // One statement: the row is chosen and leased together (no revision bump: a lease only
    // moves a row's wake-up later, see `revision`).
    const row = this.#sql.exec<DueRow>(
      `UPDATE due_work SET lease_until = ?, attempts = attempts + 1 WHERE id = (SELECT id FROM due_work WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)${notRunning(running)} ORDER BY due_at, id LIMIT 1) RETURNING *`,
      now + leaseMs,
      now,
      now,
      ...idList(running),
    )[0];
    return row && this.#held(row);
  }

  /**
   * The claim's holder goes on at once with new work of the same row (its handler said "again,
   * now"): the row stays leased to it as a first attempt, with no error, in at most one
   * statement: what a `release(claim, now, { resetAttempts: true })` and the next `claim` of
   * the row would store (but for `due_at`, which orders only rows that are claimable). Returns
   * the row as held now, or undefined when it was rescheduled since the claim (then it stays
   * as scheduled, and the next claim takes it).
   *
   * No write at all when the stored row already says so: the claim is a first attempt with no
   * error, its lease has at least half its length left (the pump renews it every third), and
   * no write that could move any row (`revision`: a schedule, a release, dropped leases) came
   * since it was taken, so this row was not rescheduled either. (A row cancelled meanwhile is
   * not noticed here: its handler decides once more from its own state, and the holder's
   * `complete` or `release` then changes nothing, as for any claim of a deleted row.)
   */
  continue(claim: DueItem, now: number, leaseMs: number): DueItem | undefined {
    const unchanged =
      claim.attempts === 1 &&
      claim.lastError === null &&
      claim.leaseUntil !== null &&
      claim.leaseUntil - now >= leaseMs / 2 &&
      heldAt.get(claim) === this.revision;
    if (unchanged) return claim;
    const row = this.#sql.exec<DueRow>(
      "UPDATE due_work SET due_at = ?, lease_until = ?, attempts = 1, last_error = NULL WHERE id = ? AND revision = ? RETURNING *",
      now,
      now + leaseMs,
      claim.id,
      claim.revision,
    )[0];
    return row && this.#held(row);
  }

  /** A row just claimed or continued, as its holder's item (`heldAt` notes the revision). */
  #held(row: DueRow): DueItem {
    const item = toItem(row);
    heldAt.set(item, this.revision);
    return item;
  }

  /**
   * Drops every lease. Only for a new incarnation of a single-instance owner
   * (a Durable Object that restarted): whoever held those leases is gone.
   * Returns how many rows became claimable.
   */
  releaseLeases(): number {
    bump(this.#sql);
    return this.#sql.exec<{ id: number }>(
      "UPDATE due_work SET lease_until = NULL WHERE lease_until IS NOT NULL RETURNING id",
    ).length;
  }

  /**
   * Moves every row of `kinds` due later than `now` to `now`, keeping its lease, attempts,
   * payload and revision, except a row waiting out a retry (it holds its last error): its
   * backoff or `retryAfterMs` stands, or each new incarnation would spend an attempt at once.
   * Like `releaseLeases`, only for a new incarnation of a single-instance owner, which holds no
   * claim yet. Returns how many rows moved.
   */
  dueNow(kinds: readonly string[], now: number): number {
    bump(this.#sql);
    return this.#sql.exec<{ id: number }>(
      "UPDATE due_work SET due_at = ? WHERE due_at > ? AND last_error IS NULL AND kind IN (SELECT value FROM json_each(?)) RETURNING id",
      now,
      now,
      JSON.stringify(kinds),
    ).length;
  }

  /** Extends the claim's lease; a no-op once the row was rescheduled (or is gone). */
  renew(claim: DueClaim, leaseUntil: number): void {
    this.#sql.exec(
      "UPDATE due_work SET lease_until = ? WHERE id = ? AND revision = ? AND lease_until IS NOT NULL",
      leaseUntil,
      claim.id,
      claim.revision,
    );
  }

  /**
   * Done: the row is gone, unless it was rescheduled since the claim (then it
   * stays, as scheduled). Returns whether the claimed revision was deleted.
   */
  complete(claim: DueClaim): boolean {
    return (
      this.#sql.exec<{ id: number }>(
        "DELETE FROM due_work WHERE id = ? AND revision = ? RETURNING id",
        claim.id,
        claim.revision,
      ).length > 0
    );
  }

  /**
   * Due again at `dueAt`, keeping the attempt count (a retry) or resetting it
   * (new work). A no-op when the row was rescheduled since the claim; returns
   * whether it applied.
   */
  release(
    claim: DueClaim,
    dueAt: number,
    options: { resetAttempts: boolean; error?: string },
  ): boolean {
    bump(this.#sql);
    return (
      this.#sql.exec<{ id: number }>(
        `UPDATE due_work SET due_at = ?, lease_until = NULL, last_error = ?${options.resetAttempts ? ", attempts = 0" : ""} WHERE id = ? AND revision = ? RETURNING id`,
        dueAt,
        options.error ?? null,
        claim.id,
        claim.revision,
      ).length > 0
    );
  }

  cancel(key: string): boolean {
    return (
      this.#sql.exec<{ id: number }>("DELETE FROM due_work WHERE key = ? RETURNING id", key)
        .length > 0
    );
  }

  /** Deletes every row of `kind` or whose key starts with `keyPrefix`. Returns how many. */
  cancelWhere(filter: { kind?: string; keyPrefix?: string }): number {
    return this.#sql.exec<{ id: number }>(
      "DELETE FROM due_work WHERE kind = ? OR substr(key, 1, length(?)) = ? RETURNING id",
      filter.kind ?? "\u0000",
      filter.keyPrefix ?? "\u0000",
      filter.keyPrefix ?? "\u0000",
    ).length;
  }

  get(key: string): DueItem | undefined {
    const row = this.#sql.exec<DueRow>("SELECT * FROM due_work WHERE key = ?", key)[0];
    return row && toItem(row);
  }

  list(limit = 100): DueItem[] {
    return this.#sql
      .exec<DueRow>("SELECT * FROM due_work ORDER BY due_at, id LIMIT ?", limit)
      .map(toItem);
  }

  /** Claimed rows whose lease has run out: their holder is gone and they wait for a redrive. */
  stuck(now: number): DueItem[] {
    return this.#sql
      .exec<DueRow>(
        "SELECT * FROM due_work WHERE lease_until IS NOT NULL AND lease_until <= ? ORDER BY id",
        now,
      )
      .map(toItem);
  }

  /**
   * A number that changes with every write to `due_work` that may bring `nextWakeAt` earlier,
   * through any `DueWork` on this port (they share the table): `schedule`, `release`,
   * `releaseLeases`, `dueNow`. The other writes only make it later or leave it (a claim, a renewal or a
   * continuation sets a lease in the future on a row that was due; `complete` and `cancel`
   * delete rows). While it stays the same, the next wake-up is no earlier than when it was
   * last read, so a caller that armed its wake-up for that time need not ask again.
   */
  get revision(): number {
    return revisions.get(this.#sql) ?? 0;
  }

  /**
   * When the next row becomes claimable (due, or its lease runs out); null when there is
   * none. `running`: ids the caller is running, left out (they are not its to wait for).
   */
  nextWakeAt(running: ReadonlySet<number> = NONE): number | null {
    const row = this.#sql.exec<{ t: number | null }>(
      `SELECT min(coalesce(lease_until, due_at)) AS t FROM due_work WHERE 1 = 1${notRunning(running)}`,
      ...idList(running),
    )[0];
    return row?.t ?? null;
  }
}

const NONE: ReadonlySet<number> = new Set();

/** The `revision` at which each held item was claimed or last written by `continue`. */
const heldAt = new WeakMap<DueItem, number>();

/** Writes to `due_work` per port, counted by every `DueWork` on it (`revision`). */
const revisions = new WeakMap<SqlPort, number>();

function bump(sql: SqlPort): void {
  revisions.set(sql, (revisions.get(sql) ?? 0) + 1);
}

/**
 * Leaves out the rows whose ids the caller is running, given as one JSON array parameter
 * (`idList`), so the statement's text is one of two whatever the ids: DO SQLite (like
 * NodeSqlPort) caches prepared statements by text, and ids inlined in it compiled a new
 * statement per claim. Nothing running: no clause (a `NOT IN` over an empty `json_each` still
 * costs a scan's worth of probes).
 */
function notRunning(ids: ReadonlySet<number>): string {
  return ids.size === 0 ? "" : " AND id NOT IN (SELECT value FROM json_each(?))";
}

/** The parameter `notRunning` takes: none when nothing runs. */
function idList(ids: ReadonlySet<number>): string[] {
  return ids.size === 0 ? [] : [JSON.stringify([...ids])];
}

function toItem(row: DueRow): DueItem {
  return {
    id: row.id,
    kind: row.kind,
    key: row.key,
    payload: JSON.parse(row.payload),
    dueAt: row.due_at,
    attempts: row.attempts,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    revision: row.revision,
  };
}
