/**
 * `StreamStore` over Durable Object SQLite. Every mutation runs in `transactionSync`, so a
 * stream's chunks, producer state and metadata commit together. Metadata is cached in
 * memory: the object is the only writer of its storage.
 *
 * An append that moves only the tail writes its chunk row and not the metadata row: the
 * tail is the larger of the stored metadata's and the last chunk's end (`load`), so the
 * metadata row is rewritten only when something else changes (close, Stream-Seq, TTL
 * access, create, delete). One statement and one page per plain append instead of two.
 */
import type {
  ProducerState,
  StoredChunk,
  StreamMeta,
  StreamStore,
  StreamWriter,
} from "@durable-agents/core/streams";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS ds_meta (id INTEGER PRIMARY KEY CHECK (id = 1), path TEXT NOT NULL, json TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS ds_chunks (end_pos INTEGER PRIMARY KEY, start_pos INTEGER NOT NULL, data BLOB NOT NULL)",
  "CREATE TABLE IF NOT EXISTS ds_producers (id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL)",
];

export class SqliteStreamStore implements StreamStore {
  private cached: { meta: StreamMeta | null; path: string | null } | null = null;

  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    for (const statement of SCHEMA) storage.sql.exec(statement);
  }

  /** The stream path this object serves, once a stream was created here. */
  path(): string | null {
    return this.load().path;
  }

  getMeta(): StreamMeta | null {
    return this.load().meta;
  }

  getProducer(producerId: string): ProducerState | null {
    const rows = this.storage.sql
      .exec<{ epoch: number; last_seq: number }>(
        "SELECT epoch, last_seq FROM ds_producers WHERE id = ?",
        producerId,
      )
      .toArray();
    const row = rows[0];
    return row === undefined ? null : { epoch: row.epoch, lastSeq: row.last_seq };
  }

  readChunks(from: number, until: number, maxBytes: number): StoredChunk[] {
    const cursor = this.storage.sql.exec<{ start_pos: number; end_pos: number; data: ArrayBuffer }>(
      "SELECT start_pos, end_pos, data FROM ds_chunks WHERE end_pos > ? AND end_pos <= ? ORDER BY end_pos",
      from,
      until,
    );
    const out: StoredChunk[] = [];
    let bytes = 0;
    for (const row of cursor) {
      const data = new Uint8Array(row.data);
      if (out.length > 0 && bytes + data.byteLength > maxBytes) break;
      out.push({ start: row.start_pos, end: row.end_pos, data });
      bytes += data.byteLength;
    }
    return out;
  }

  /** Set before a create commits, so metadata rows carry the path (alarms need it). */
  pathForWrites: string | null = null;

  transaction<T>(fn: (writer: StreamWriter) => T): T {
    const sql = this.storage.sql;
    let staged = this.load();
    const writer: StreamWriter = {
      putMeta: (meta) => {
        const path = staged.path ?? this.pathForWrites ?? "";
        if (staged.meta !== null && onlyTailMoved(staged.meta, meta)) {
          staged = { meta, path };
          return;
        }
        sql.exec(
          "INSERT OR REPLACE INTO ds_meta (id, path, json) VALUES (1, ?, ?)",
          path,
          JSON.stringify(meta),
        );
        staged = { meta, path };
      },
      putProducer: (id, state) => {
        sql.exec(
          "INSERT OR REPLACE INTO ds_producers (id, epoch, last_seq) VALUES (?, ?, ?)",
          id,
          state.epoch,
          state.lastSeq,
        );
      },
      appendChunks: (chunks) => {
        for (const chunk of chunks) {
          sql.exec(
            "INSERT INTO ds_chunks (end_pos, start_pos, data) VALUES (?, ?, ?)",
            chunk.end,
            chunk.start,
            chunk.data,
          );
        }
      },
      wipe: () => {
        sql.exec("DELETE FROM ds_chunks");
        sql.exec("DELETE FROM ds_producers");
        sql.exec("DELETE FROM ds_meta");
        staged = { meta: null, path: null };
      },
    };
    try {
      const result = this.storage.transactionSync(() => fn(writer));
      this.cached = staged;
      return result;
    } catch (error) {
      this.cached = null;
      throw error;
    }
  }

  private load(): { meta: StreamMeta | null; path: string | null } {
    if (this.cached === null) {
      const row = this.storage.sql
        .exec<{ path: string; json: string }>("SELECT path, json FROM ds_meta WHERE id = 1")
        .toArray()[0];
      if (row === undefined) this.cached = { meta: null, path: null };
      else {
        const stored = JSON.parse(row.json) as StreamMeta;
        const end = this.storage.sql
          .exec<{ tail: number | null }>("SELECT max(end_pos) AS tail FROM ds_chunks")
          .one().tail;
        const meta = end !== null && end > stored.tail ? { ...stored, tail: end } : stored;
        this.cached = { meta, path: row.path };
      }
    }
    return this.cached;
  }
}

/** True when `next` differs from `prev` in the tail alone (appends spread the rest unchanged). */
function onlyTailMoved(prev: StreamMeta, next: StreamMeta): boolean {
  for (const key in next) {
    if (key !== "tail" && prev[key as keyof StreamMeta] !== next[key as keyof StreamMeta])
      return false;
  }
  return true;
}
