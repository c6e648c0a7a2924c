/**
 * The statement-counting SQL port of the tests that count what a path reads instead of timing
 * it (step-statements.test.ts, src/http/chat/chat-reads.test.ts): every statement, and the
 * ledger rows (`FROM events`) each returned, with the run each row belongs to.
 */
import type { SqlValue } from "../src/index.ts";
import { NodeSqlPort } from "../src/testing/node-sqlite.ts";

export class CountingSqlPort extends NodeSqlPort {
  statements: string[] = [];
  /** Per statement that read the `events` table: the `run_id` of each row it returned. */
  eventReads: (string | null)[][] = [];

  override exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
    this.statements.push(query);
    const rows = super.exec<T>(query, ...params);
    if (/\bFROM events\b/.test(query))
      this.eventReads.push(rows.map((row) => (row as { run_id?: string | null }).run_id ?? null));
    return rows;
  }

  /** Forgets what was counted so far. */
  reset(): void {
    this.statements = [];
    this.eventReads = [];
  }

  /** Ledger rows read since the last `reset`, of run `runId` when given. */
  eventRows(runId?: string): number {
    return this.eventReads.flat().filter((row) => runId === undefined || row === runId).length;
  }

  /** The most ledger rows one statement returned since the last `reset`. */
  largestEventRead(): number {
    return Math.max(0, ...this.eventReads.map((rows) => rows.length));
  }
}
