/**
 * Where a durable step's SQL goes: the statements one "work" run of the step-cost bench's
 * agent runs (bench/step-cost.ts, history of `history` messages), grouped by statement text
 * and divided by the run's steps, heaviest first. Counted through the port (`exec` calls),
 * as the bench and `packages/core/test/step-statements.test.ts` count them.
 */
import type { SqlValue } from "@durable-agents/core";
import { createTestSession, ManualClock, NodeSqlPort } from "@durable-agents/core/testing";
import { benchAgent as agent, STEPS } from "./agent.ts";

class RecordingSqlPort extends NodeSqlPort {
  readonly statements: string[] = [];
  override exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
    this.statements.push(query);
    return super.exec<T>(query, ...params);
  }
}

export interface StatementCount {
  /** The statement's text, whitespace folded, cut at 110 characters. */
  readonly statement: string;
  readonly perStep: number;
}

/** Statements per step of one "work" run after `history / 2` one-step runs, by statement. */
export async function statementBreakdown(history = 10): Promise<StatementCount[]> {
  const sql = new RecordingSqlPort();
  let n = 0;
  const session = createTestSession(
    agent,
    { newId: () => `run_${++n}` },
    { sql, clock: new ManualClock() },
  );
  const run = async (message: string) => {
    await session.runtime.start({ message });
    await session.drain();
  };
  for (let i = 0; i < history / 2; i++) await run(`hello ${i}`);
  await run("warm up");
  const from = sql.statements.length;
  await run("work");
  const counts = new Map<string, number>();
  for (const query of sql.statements.slice(from)) {
    const key = query.replace(/\s+/g, " ").slice(0, 110);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  sql.close();
  return [...counts]
    .map(([statement, count]) => ({ statement, perStep: count / STEPS }))
    .sort((a, b) => b.perStep - a.perStep);
}

/** The breakdown as text lines: count per step, then the statement. */
export function formatBreakdown(counts: readonly StatementCount[]): string {
  const total = counts.reduce((sum, c) => sum + c.perStep, 0);
  return [
    `SQL statements per step, by statement (${total.toFixed(1)} in all):`,
    ...counts.map((c) => `  ${c.perStep.toFixed(2).padStart(6)}  ${c.statement}`),
  ].join("\n");
}
