import {
  type Clock,
  type Logger,
  OUTBOX_KIND,
  OutboxDelivery,
  type Projection,
  type SqlPort,
  TerminalError,
  type TriggerHandler,
} from "@durable-agents/core";
import { d1Deliverer } from "./d1-store.ts";
import { indexProjection } from "./index-messages.ts";

/** The cross-session index: each session mirrors its status and usage to D1 through its outbox. */
export interface IndexOptions {
  /** The D1 binding; defaults to INDEX_DB. */
  readonly binding?: string;
  /** Only these agent types are indexed; all when omitted. */
  readonly agents?: readonly string[];
  readonly batchSize?: number;
  /** Test hook: crash points around the D1 write. Never set in production. */
  readonly faults?: (
    point: "before-d1-write" | "after-d1-write",
    ctx: DurableObjectState,
  ) => Promise<void>;
}

export interface IndexContext {
  readonly env: Record<string, unknown>;
  readonly sql: SqlPort;
  readonly agent: string;
  readonly session: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly state: DurableObjectState;
}

/** The projection and trigger kind a session runtime needs to feed the index. */
export function indexExtensions(
  options: IndexOptions | undefined,
  ctx: IndexContext,
): { projections?: readonly Projection[]; triggers?: ReadonlyMap<string, TriggerHandler> } {
  if (!options || (options.agents && !options.agents.includes(ctx.agent))) return {};
  const binding = options.binding ?? "INDEX_DB";
  const db = ctx.env[binding] as D1Database | undefined;
  if (!db)
    throw new TerminalError(
      "index_not_bound",
      `createAgentServer({ index }) needs a D1 database bound as ${binding} in wrangler.jsonc (d1_databases)`,
    );
  const write = d1Deliverer(db, ctx.agent, ctx.session);
  const faults = options.faults;
  const delivery = new OutboxDelivery(ctx.sql, {
    logger: ctx.logger,
    clock: ctx.clock,
    batchSize: options.batchSize,
    deliver: faults
      ? async (messages) => {
          await faults("before-d1-write", ctx.state);
          await write(messages);
          await faults("after-d1-write", ctx.state);
        }
      : write,
  });
  return { projections: [indexProjection], triggers: new Map([[OUTBOX_KIND, delivery]]) };
}
