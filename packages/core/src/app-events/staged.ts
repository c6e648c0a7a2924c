import type { NewEvent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { SqlPort } from "../sql/port.ts";
import { type AnyAppEvent, appEvent, type PayloadOf } from "./define-event.ts";

/**
 * What one unit of app code (a tool call, a trigger run, an `on` delivery) staged: its
 * application events and its writes to the session's SQLite. They commit together with the
 * unit's own record (`tool.completed`, the due row's completion) or not at all, so a crash
 * before the commit loses them with the unit, and the redriven unit stages them again: the
 * effect is exactly once even when the code runs more than once.
 */
export class StagedEffects {
  readonly events: NewEvent[] = [];
  readonly writes: ((sql: SqlPort) => void)[] = [];
  readonly #runId: string | null;

  constructor(runId: string | null) {
    this.#runId = runId;
  }

  /** Validates the payload now (InvalidAppEventError) and stages the event. */
  emit<E extends AnyAppEvent>(event: E, payload: PayloadOf<E>): void {
    this.events.push(appEvent(event, payload, this.#runId));
  }

  transaction(write: (sql: SqlPort) => void): void {
    this.writes.push(write);
  }

  /**
   * Appends the staged events with the writes and `also` (the unit's own record) in one
   * transaction. Without events it is a plain transaction.
   */
  commit(ledger: Ledger, sql: SqlPort, also: (sql: SqlPort) => void): void {
    const apply = (tx: SqlPort) => {
      for (const write of this.writes) write(tx);
      also(tx);
    };
    if (this.events.length > 0) ledger.append(this.events, apply);
    else sql.transaction(() => apply(sql));
  }
}
