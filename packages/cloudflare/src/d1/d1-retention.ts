import type { IndexDb } from "./d1-queries.ts";
import { type IndexShardOptions, indexShards } from "./shards.ts";

/** How long the index keeps usage entries and settled sessions by default: 90 days. */
export const DEFAULT_RETENTION_DAYS = 90;
/** The most rows one retention pass deletes per table (and shard) by default. */
export const DEFAULT_RETENTION_CHUNK = 500;

export interface RetentionOptions {
  readonly days: number;
  /** "Now" in ms since the epoch; defaults to Date.now(). */
  readonly now?: number;
  /** The most rows deleted per table and shard in this pass (default DEFAULT_RETENTION_CHUNK). */
  readonly chunk?: number;
}

export interface RetentionPass {
  readonly usage: number;
  readonly sessions: number;
  /** A table of some shard had at least `chunk` rows to go: call again. */
  readonly more: boolean;
}

/**
 * One bounded retention pass, one D1 batch per shard (the shards in parallel): deletes
 * up to `chunk` usage entries older than `days`, and up to `chunk` sessions not updated
 * for that long that are no longer running or waiting and have no usage entry left
 * (oldest first, with their tags). A session whose usage is kept is kept with it, so
 * `GET /usage` never counts a session `GET /sessions` cannot show: usage recorded today
 * on a session whose last status is older than the period (its row's `updated_at`, which
 * the usage does not change) keeps the row until that usage goes too.
 * Returns the rows deleted over all shards.
 * @throws RangeError when days or chunk is not positive.
 */
export async function applyRetention(
  db: IndexDb,
  options: RetentionOptions,
): Promise<RetentionPass> {
  if (!(options.days > 0)) throw new RangeError("retention days must be a positive number");
  const chunk = options.chunk ?? DEFAULT_RETENTION_CHUNK;
  if (!(Number.isSafeInteger(chunk) && chunk > 0))
    throw new RangeError("retention chunk must be a positive integer");
  const cutoff = (options.now ?? Date.now()) - options.days * 86_400_000;
  const shards = Array.isArray(db) ? db : [db as D1Database];
  const passes = await Promise.all(shards.map((shard) => retainShard(shard, cutoff, chunk)));
  return passes.reduce(
    (total, pass) => ({
      usage: total.usage + pass.usage,
      sessions: total.sessions + pass.sessions,
      more: total.more || pass.more,
    }),
    { usage: 0, sessions: 0, more: false },
  );
}

async function retainShard(db: D1Database, cutoff: number, chunk: number): Promise<RetentionPass> {
  // Runs after the usage delete in the same batch: any usage entry left is newer than cutoff.
  const settled =
    "SELECT agent, session FROM da_sessions s WHERE updated_at < ? AND status NOT IN ('running', 'waiting') AND NOT EXISTS (SELECT 1 FROM da_usage u WHERE u.agent = s.agent AND u.session = s.session) ORDER BY updated_at, agent, session LIMIT ?";
  const [usage, , sessions] = await db.batch([
    db
      .prepare(
        "DELETE FROM da_usage WHERE rowid IN (SELECT rowid FROM da_usage WHERE ts < ? ORDER BY ts LIMIT ?)",
      )
      .bind(cutoff, chunk),
    db
      .prepare(`DELETE FROM da_session_tags WHERE (agent, session) IN (${settled})`)
      .bind(cutoff, chunk),
    db
      .prepare(`DELETE FROM da_sessions WHERE (agent, session) IN (${settled})`)
      .bind(cutoff, chunk),
  ]);
  const deleted = { usage: usage?.meta.changes ?? 0, sessions: sessions?.meta.changes ?? 0 };
  return { ...deleted, more: deleted.usage >= chunk || deleted.sessions >= chunk };
}

/**
 * A `scheduled` handler that applies retention on a cron trigger to every shard of the
 * index, in passes of `chunk` rows per table and shard, at most `passes` (default 20)
 * per trigger. Sessions that feed the index already apply retention themselves
 * (IndexOptions.retention); this is for deployments that turn that off. `binding` and
 * `shards` as in IndexOptions; with `shards` unset, every shard found by the naming
 * convention (INDEX_DB, INDEX_DB_1, …).
 * @example
 * export default { fetch: ..., scheduled: retentionHandler({ days: 90 }) };
 */
export function retentionHandler(
  options: { days: number; chunk?: number; passes?: number } & IndexShardOptions,
) {
  return (controller: ScheduledController, env: object, ctx: ExecutionContext) => {
    const { dbs } = indexShards(env as Record<string, unknown>, options);
    ctx.waitUntil(
      (async () => {
        for (let pass = 0; pass < (options.passes ?? 20); pass++) {
          const { more } = await applyRetention(dbs, {
            days: options.days,
            now: controller.scheduledTime,
            chunk: options.chunk,
          });
          if (!more) return;
        }
      })(),
    );
  };
}
