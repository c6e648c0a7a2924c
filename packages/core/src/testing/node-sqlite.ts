import { DatabaseSync } from "node:sqlite";
import type { SqlPort, SqlValue } from "../sql/port.ts";

/**
 * The in-process SQLite used by Node unit tests and benchmarks (node:sqlite).
 * Nested transactions become savepoints, like DO `transactionSync`.
 */
export class NodeSqlPort implements SqlPort {
  readonly db: DatabaseSync;
  #depth = 0;

  constructor(path = ":memory:") {
    this.db = new DatabaseSync(path);
  }

  exec<T extends object>(sql: string, ...params: SqlValue[]): T[] {
    const statement = this.db.prepare(sql);
    // biome-ignore lint/suspicious/noExplicitAny: node:sqlite's parameter type is narrower than SqlValue
    return statement.all(...(params as any[])) as T[];
  }

  transaction<T>(fn: () => T): T {
    const name = `sp${this.#depth}`;
    this.db.exec(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      this.#depth--;
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#depth--;
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }
}
