import type { SessionRuntime } from "../agent/session-runtime.ts";
import type { TokenScope } from "../auth/session-token.ts";
import type { Clock } from "../clock.ts";
import type { Caller } from "../commands/caller.ts";
import type { LedgerEvent } from "../ledger/events.ts";
import type { SqlPort } from "../sql/port.ts";
import type { LiveReadOptions } from "../streams/ledger-source.ts";
import type { ChatOptions } from "./chat/chat-presence.ts";
import type { SessionHooks } from "./hooks.ts";
import type { PriceTable } from "./usage-view.ts";

export interface SessionHttpContext {
  readonly runtime: SessionRuntime;
  readonly sql: SqlPort;
  readonly clock: Clock;
  readonly live: LiveReadOptions;
  /** Who sent the request, as the auth layer found it: commands check its scopes and expiry. */
  readonly caller: Caller;
  /** The caller's authority over another session a command writes (a fork's target): CommandCall. */
  readonly authorizeSession?: (session: string, scope: TokenScope) => Promise<void>;
  readonly hooks?: SessionHooks;
  readonly env?: Record<string, unknown>;
  /** Application price table for usage cost: see docs/api.md. */
  readonly prices?: PriceTable;
  /** The chat surface (`/chat/:agent`): when a cut stream stops its run. */
  readonly chat?: Partial<ChatOptions>;
  /** Other sessions of the same agent, reached object to object (forks). */
  readonly peers?: SessionPeers;
}

/** What a session can ask of another session's object. */
export interface SessionPeers {
  /** Seeds an empty session with a copied ledger prefix. Throws the peer's DurableAgentsError when refused. */
  importFork(session: string, events: readonly LedgerEvent[], reason: string): Promise<void>;
}

export type SessionRoute = (
  request: Request,
  ctx: SessionHttpContext,
) => Promise<Response> | Response;

/** Routes of one group: action name → method → handler. */
export type RouteTable = Record<string, Partial<Record<string, SessionRoute>>>;
