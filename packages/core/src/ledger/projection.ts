import type { Migration } from "../sql/migrate.ts";
import type { SqlPort } from "../sql/port.ts";
import type { LedgerEvent } from "./events.ts";

/**
 * A projection is a table (or a few) derived from the ledger and kept in the
 * same transaction as each insert. Bumping `version` drops and rebuilds it by
 * replaying the ledger, so a projection never needs a data migration.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  readonly create: readonly string[];
  readonly drop: readonly string[];
  /**
   * `on_open` (default): a stored version that differs rebuilds it when the ledger opens.
   * `explicit` (application projections): never rebuilt silently; its owner reports the
   * mismatch and rebuilds on request (`Ledger.rebuild`).
   */
  readonly rebuild?: "on_open" | "explicit";
  /**
   * Schema steps that need no replay (dropping an index a read no longer needs), so that a
   * stored session changes in place instead of rebuilding from its ledger. Applied by
   * `migrate` (set `projection:<name>`) whenever the ledger opens, after any rebuild; `create`
   * already says the result, so each step must also hold on the tables it just made (`IF
   * EXISTS`).
   */
  readonly migrations?: readonly Migration[];
  /**
   * Applies one event. Throwing rolls the event back. Must not read the ledger. `copied` is
   * true for history copied from another session (a fork's prefix, `Ledger.copiedThrough`),
   * the same on append and on rebuild: what happened there, not here.
   */
  apply(sql: SqlPort, event: LedgerEvent, copied: boolean): void;
}
