import type { SqlPort, SqlValue } from "@durable-agents/core";

/** The SQL port over a Durable Object's SQLite (`ctx.storage.sql` + `transactionSync`). */
export function doSqlPort(storage: DurableObjectStorage): SqlPort {
  return {
    exec<T extends object>(query: string, ...params: SqlValue[]): T[] {
      return storage.sql.exec(query, ...params).toArray() as T[];
    },
    transaction<T>(fn: () => T): T {
      return storage.transactionSync(fn);
    },
  };
}
