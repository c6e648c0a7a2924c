/** Two durable flags of a stream object: "report appends to the registry", and "I am the registry". */
export class WatchFlag {
  private readonly sql: SqlStorage;
  private cached: { watched: boolean; registry: boolean } | null = null;

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS ds_flags (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    );
  }

  get(): boolean {
    return this.load().watched;
  }

  set(watched: boolean): void {
    if (this.load().watched === watched) return;
    this.sql.exec(
      "INSERT OR REPLACE INTO ds_flags (name, value) VALUES ('watched', ?)",
      watched ? 1 : 0,
    );
    this.cached = { ...this.load(), watched };
  }

  isRegistry(): boolean {
    return this.load().registry;
  }

  markRegistry(): void {
    if (this.load().registry) return;
    this.sql.exec("INSERT OR REPLACE INTO ds_flags (name, value) VALUES ('registry', 1)");
    this.cached = { ...this.load(), registry: true };
  }

  private load(): { watched: boolean; registry: boolean } {
    if (this.cached === null) {
      const rows = this.sql
        .exec<{ name: string; value: number }>("SELECT name, value FROM ds_flags")
        .toArray();
      const flag = (name: string): boolean =>
        rows.some((row) => row.name === name && row.value === 1);
      this.cached = { watched: flag("watched"), registry: flag("registry") };
    }
    return this.cached;
  }
}
