/**
 * The SQL port: the only way core code touches storage. It is synchronous on
 * purpose: DO SQLite (`ctx.storage.sql` + `transactionSync`) is synchronous, and
 * a synchronous transaction cannot interleave with other requests of the object.
 */
export type SqlValue = string | number | null | ArrayBuffer | Uint8Array;

export type SqlRow = Record<string, SqlValue>;

export interface SqlPort {
  /** Runs one statement and returns its rows (an empty array for writes). */
  exec<T extends object = SqlRow>(sql: string, ...params: SqlValue[]): T[];
  /** Runs `fn` atomically: a throw rolls back every write made inside it. Nests. */
  transaction<T>(fn: () => T): T;
}

/** First row or undefined. */
export function one<T extends object = SqlRow>(
  sql: SqlPort,
  query: string,
  ...params: SqlValue[]
): T | undefined {
  return sql.exec<T>(query, ...params)[0];
}
