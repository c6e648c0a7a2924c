import {
  type Clock,
  type Logger,
  NotFoundError,
  type PriceTable,
  type Projection,
  type SqlPort,
  type TriggerHandler,
} from "@durable-agents/core";
import type { IndexOptions } from "./session-index.ts";

/**
 * The seam between the session object and router (in every Worker) and the D1 index (only in
 * Workers that keep one). The index is a value, `d1Index(options)` from
 * `@durable-agents/cloudflare/d1`, made once and given to `createAgentServer({ index })`, which
 * `routeRequest(..., { server })` reads it from: everything the object and the router know of it goes
 * through this interface, so a Worker without it bundles none of the index's code (its
 * projection, its D1 writes and queries, retention, shards).
 */
export interface SessionIndex {
  /** The options `d1Index` was given (bindings, shards, agents, delivery and retention). */
  readonly options: IndexOptions;
  /** Whether this agent type's sessions are indexed (`options.agents`; all when absent). */
  covers(agent: string): boolean;
  /** Records who uses the session (from the auth identity) for the index's user and tag filters. */
  recordIdentity(sql: SqlPort, identity: { user?: string; tags?: readonly string[] }): void;
  /** The projection and outbox trigger a session runtime needs to feed the index ({} for an agent not covered). */
  extensions(ctx: IndexContext): {
    projections?: readonly Projection[];
    triggers?: ReadonlyMap<string, TriggerHandler>;
  };
  /** `GET /sessions` and `GET /usage`, after the router's admin check. */
  serve(
    request: Request,
    env: Record<string, unknown>,
    options: { readonly prices?: PriceTable },
  ): Promise<Response>;
}

/** What a session object gives the index when it opens a session. */
export interface IndexContext {
  readonly env: Record<string, unknown>;
  readonly sql: SqlPort;
  readonly agent: string;
  readonly session: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly state: DurableObjectState;
}

/**
 * Checks that `index` (createAgentServer's or routeRequest's option) is a `d1Index()` value.
 * A Worker upgraded from the previous API (where `index` was the options object, `{ binding?,
 * shards?, retention? }`, or `false`) and not type-checked (JS) would otherwise fail each
 * session request with "index?.covers is not a function". Throws a TypeError that says what
 * to write instead.
 */
export function assertSessionIndex(
  index: unknown,
  where: string,
): asserts index is SessionIndex | undefined {
  if (index === undefined) return;
  const value = index as Partial<SessionIndex> | null;
  if (
    typeof value === "object" &&
    value !== null &&
    typeof value.extensions === "function" &&
    typeof value.serve === "function" &&
    typeof value.covers === "function"
  )
    return;
  throw new TypeError(
    `${where}: index must be the value d1Index() returns (or left out for no index), not ${JSON.stringify(index) ?? String(index)}; ${ENABLE}, e.g. d1Index(${typeof index === "object" && index !== null ? JSON.stringify(index) : ""}) where options such as binding, shards and retention now go`,
  );
}

/** The Worker-level routes that read the index. */
export const INDEX_PATHS: ReadonlySet<string> = new Set(["/sessions", "/usage"]);

/** The default (first shard's) binding of the index. */
export const DEFAULT_INDEX_BINDING = "INDEX_DB";

/** Whether an env value is a D1 database binding. */
export function isD1(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null && "prepare" in value && "batch" in value;
}

const ENABLE =
  "create it once with d1Index() from @durable-agents/cloudflare/d1 and give it to createAgentServer({ index }): routeRequest(request, env, ctx, { server: AgentSession }) reads the index its sessions write";

/** 404 `index_off`: an index route in a Worker whose router was given no index. */
export function indexOffError(pathname: string, env: Record<string, unknown>): NotFoundError {
  const bound = isD1(env[DEFAULT_INDEX_BINDING])
    ? ` (${DEFAULT_INDEX_BINDING} is bound, but no index was given, so nothing is read from it)`
    : "";
  return new NotFoundError(
    "index_off",
    `${pathname} reads the cross-session D1 index, which this Worker does not keep${bound}; to keep one, ${ENABLE}`,
  );
}

/**
 * The warning a session object logs (once per isolate) when INDEX_DB is a D1 binding but the
 * server has no index: sessions are not written to it. Undefined when INDEX_DB is not bound.
 */
export function unindexedWarning(env: Record<string, unknown>): string | undefined {
  if (!isD1(env[DEFAULT_INDEX_BINDING])) return undefined;
  return `${DEFAULT_INDEX_BINDING} is a D1 binding, but createAgentServer has no index: sessions are not written to the cross-session index. To keep one, ${ENABLE}; if the binding is for something else, give it another name`;
}
