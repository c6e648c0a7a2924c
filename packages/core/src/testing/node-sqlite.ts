import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqlPort, SqlValue } from "../sql/port.ts";

/**
 * How much SQL text (UTF-16 code units) of prepared statements the port keeps: 1 MiB, as DO
 * SQLite does (workerd src/workerd/api/sql.c++, `SQL_STATEMENT_CACHE_MAX_SIZE`).
 */
const STATEMENT_CACHE_MAX_SIZE = 1024 * 1024;

/**
 * The in-process SQLite used by Node unit tests and benchmarks (node:sqlite).
 * Nested transactions become savepoints, like DO `transactionSync`. Statements are prepared
 * once per SQL text and reused, least recently used dropped past 1 MiB of SQL, like
 * `ctx.storage.sql.exec` (workerd's statement cache), so a statement costs here what it
 * costs in a Durable Object rather than a compile per call.
 */
export class NodeSqlPort implements SqlPort {
  readonly db: DatabaseSync;
  #depth = 0;
  readonly #statements = new Map<string, StatementSync>();
  #statementBytes = 0;

  constructor(path = ":memory:") {
    this.db = new DatabaseSync(path);
  }

  exec<T extends object>(sql: string, ...params: SqlValue[]): T[] {
    const statement = this.#prepare(sql);
    // biome-ignore lint/suspicious/noExplicitAny: node:sqlite's parameter type is narrower than SqlValue
    return statement.all(...(params as any[])) as T[];
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Most recently used last (Map order).
      this.#statements.delete(sql);
      this.#statements.set(sql, statement);
      return statement;
    }
    statement = this.db.prepare(sql);
    this.#statements.set(sql, statement);
    this.#statementBytes += sql.length;
    for (const [old] of this.#statements) {
      if (this.#statementBytes <= STATEMENT_CACHE_MAX_SIZE) break;
      this.#statements.delete(old);
      this.#statementBytes -= old.length;
    }
    return statement;
  }

  transaction<T>(fn: () => T): T {
    const name = `sp${this.#depth}`;
    this.#prepare(`SAVEPOINT ${name}`).run();
    this.#depth++;
    try {
      const result = fn();
      this.#depth--;
      this.#prepare(`RELEASE ${name}`).run();
      return result;
    } catch (error) {
      this.#depth--;
      this.#prepare(`ROLLBACK TO ${name}`).run();
      this.#prepare(`RELEASE ${name}`).run();
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }
}
