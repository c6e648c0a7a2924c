import {
  OUTBOX_KIND,
  OutboxDelivery,
  type Projection,
  type SqlPort,
  type TriggerHandler,
} from "@durable-agents/core";
import { applyRetention, DEFAULT_RETENTION_DAYS } from "./d1-retention.ts";
import { d1Deliverer, d1ForgetSession } from "./d1-store.ts";
import { indexProjection } from "./index-messages.ts";
import { type IndexContext, isD1 } from "./index-port.ts";
import { type IndexShardOptions, indexShards, shardOf } from "./shards.ts";

export type { IndexContext } from "./index-port.ts";

/**
 * The cross-session index: each session mirrors its status and usage to D1 through its
 * outbox. `binding` (default INDEX_DB) and `shards` (default 1) say which D1 databases
 * hold it: with `shards: 3`, INDEX_DB, INDEX_DB_1 and INDEX_DB_2, each session's rows in
 * one of them, chosen by a stable hash of its agent and session (see shards.ts).
 */
export interface IndexOptions extends IndexShardOptions {
  /** Only these agent types are indexed; all when omitted. */
  readonly agents?: readonly string[];
  readonly batchSize?: number;
  /**
   * How long (ms) index messages wait before delivery starts, so a run's steps
   * share one D1 batch. Default INDEX_DELAY_MS (1 000).
   */
  readonly delayMs?: number;
  /** A D1 batch unanswered after this long (ms) counts as failed and is retried. Default 30 000. */
  readonly timeoutMs?: number;
  /**
   * Retention, on unless `false`: after a delivery lands, with probability
   * `sampleRate` (default 0.01), the session also runs one bounded pass in the
   * background (applyRetention): up to `chunk` (default 500) usage entries
   * older than `days` (default 90), and as many settled sessions not updated
   * for that long with no usage left, on the session's own shard. Passes scale with write traffic,
   * so deletion keeps pace while a deployment writes fewer than chunk ×
   * sampleRate (5) rows per delivery on average (a run writes 1 session row and
   * about 2 usage entries).
   */
  readonly retention?: false | { days?: number; chunk?: number; sampleRate?: number };
  /**
   * Called after each D1 batch landed, e.g. to record index lag as a metric:
   * `lagMs` is how long the batch's oldest message waited (ms), `statements`
   * how many D1 statements the batch held. Must not throw.
   */
  readonly onDelivered?: (delivery: IndexDelivery) => void;
  /** Test hook: crash points around the D1 write. Never set in production. */
  readonly faults?: (
    point: "before-d1-write" | "after-d1-write",
    ctx: DurableObjectState,
    session: string,
  ) => Promise<void>;
}

export interface IndexDelivery {
  readonly agent: string;
  readonly session: string;
  /** The binding of the shard the batch went to. */
  readonly shard: string;
  readonly messages: number;
  readonly statements: number;
  readonly lagMs: number;
}

/**
 * The projection and trigger kind a session runtime needs to feed the index.
 * Deliveries are off the run's critical path: batched per session, started
 * `delayMs` after the first undelivered message, sent in the background.
 */
export function indexExtensions(
  options: IndexOptions | undefined,
  ctx: IndexContext,
): { projections?: readonly Projection[]; triggers?: ReadonlyMap<string, TriggerHandler> } {
  if (!options || (options.agents && !options.agents.includes(ctx.agent))) return {};
  const shards = indexShards(ctx.env, { binding: options.binding, shards: options.shards ?? 1 });
  const at = shardOf(shards.names, ctx.agent, ctx.session);
  const shard = shards.names[at] as string;
  const db = shards.dbs[at] as D1Database;
  const write = d1Deliverer(db, ctx.agent, ctx.session);
  const faults = options.faults;
  const retention = options.retention === false ? undefined : (options.retention ?? {});
  const maybeRetain = () => {
    if (!retention || Math.random() >= (retention.sampleRate ?? 0.01)) return;
    // In the background: a slow pass never holds the delivery, let alone a run.
    applyRetention(db, {
      days: retention.days ?? DEFAULT_RETENTION_DAYS,
      chunk: retention.chunk,
      now: ctx.clock.now(),
    }).then(
      (deleted) => {
        if (deleted.usage + deleted.sessions > 0)
          ctx.logger.info("index retention pass", { ...deleted });
      },
      (error: unknown) => ctx.logger.warn("index retention failed", { error: String(error) }),
    );
  };
  const delivery = new OutboxDelivery(ctx.sql, {
    logger: ctx.logger,
    clock: ctx.clock,
    batchSize: options.batchSize,
    timeoutMs: options.timeoutMs,
    deliver: async (messages) => {
      await faults?.("before-d1-write", ctx.state, ctx.session);
      let statements = await write(messages);
      await faults?.("after-d1-write", ctx.state, ctx.session);
      // The session row now exists in this shard: forget it in the one it was in before.
      if (messages.some((m) => m.topic === "session")) {
        const previous = lastShard(ctx.sql);
        if (previous !== shard) {
          const old = previous === undefined ? undefined : ctx.env[previous];
          if (isD1(old)) statements += await d1ForgetSession(old, ctx.agent, ctx.session);
          recordShard(ctx.sql, shard);
        }
      }
      const oldest = Math.min(...messages.map((m) => m.createdAt));
      maybeRetain();
      options.onDelivered?.({
        agent: ctx.agent,
        session: ctx.session,
        shard,
        messages: messages.length,
        statements,
        lagMs: Math.max(0, ctx.clock.now() - oldest),
      });
    },
  });
  return {
    projections: [indexProjection(options.delayMs)],
    triggers: new Map([[OUTBOX_KIND, delivery]]),
  };
}

const SHARD_TABLE =
  "CREATE TABLE IF NOT EXISTS index_shard (id INTEGER PRIMARY KEY CHECK (id = 1), binding TEXT NOT NULL)";

/** The shard binding this session's index row was last written to (shards.ts, invariant 4). */
function lastShard(sql: SqlPort): string | undefined {
  sql.exec(SHARD_TABLE);
  return sql.exec<{ binding: string }>("SELECT binding FROM index_shard WHERE id = 1")[0]?.binding;
}

function recordShard(sql: SqlPort, binding: string): void {
  sql.exec(
    "INSERT INTO index_shard (id, binding) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET binding = excluded.binding",
    binding,
  );
}
