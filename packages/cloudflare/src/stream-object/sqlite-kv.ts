/** `SubscriptionStorage` over DO SQLite: JSON values by key, listed by prefix. */
import type { SubscriptionStorage } from "@durable-agents/core/streams";

export function sqliteKv(storage: DurableObjectStorage): SubscriptionStorage {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS ds_kv (key TEXT PRIMARY KEY, json TEXT NOT NULL)");
  return {
    get<T>(key: string): T | null {
      const row = sql
        .exec<{ json: string }>("SELECT json FROM ds_kv WHERE key = ?", key)
        .toArray()[0];
      return row === undefined ? null : (JSON.parse(row.json) as T);
    },
    put(key, value) {
      sql.exec(
        "INSERT OR REPLACE INTO ds_kv (key, json) VALUES (?, ?)",
        key,
        JSON.stringify(value),
      );
    },
    delete(key) {
      sql.exec("DELETE FROM ds_kv WHERE key = ?", key);
    },
    list<T>(prefix: string): T[] {
      return sql
        .exec<{ json: string }>(
          "SELECT json FROM ds_kv WHERE key >= ? AND key < ? ORDER BY key",
          prefix,
          `${prefix}\uffff`,
        )
        .toArray()
        .map((row) => JSON.parse(row.json) as T);
    },
  };
}
