import { DurableObject } from "cloudflare:workers";
import {
  type AgentWorkflowParams,
  assertDistinctKinds,
  assertDistinctProjections,
  assertDistinctSubscriptions,
  assertDomainsDeclared,
  type Caller,
  consoleLogger,
  DEFAULT_LIVE_READ,
  errorResponse,
  handleSessionRequest,
  IdlePromptCaches,
  isolateIdlePromptCaches,
  type LedgerEvent,
  type LiveReadOptions,
  NotFoundError,
  runtimeLimits,
  type SessionRuntime,
  SessionRuntimeBase,
  SOCKET_ROUTE,
  type SqlPort,
  type StoreCall,
  type SubagentMessage,
  systemClock,
  type ToolWorkflowResult,
  type WorkflowCallReply,
} from "@durable-agents/core";
import type { SessionAuthority } from "../auth/authorize.ts";
import { assertSessionIndex, unindexedWarning } from "../d1/index-port.ts";
import { declareServerRule } from "../router-options.ts";
import { doSqlPort } from "../sql/do-sql-port.ts";
import { type StoreReply, type StoreStub, serveStoreRpc } from "../store/store-rpc.ts";
import type {
  AgentWorkflowCall,
  AgentWorkflowReply,
  AgentWorkflowStub,
} from "../workflows/agent-workflow.ts";
import { workflowSides } from "../workflows/workflow-sides.ts";
import type { AgentServerOptions } from "./agent-server-options.ts";
import { serveWithPlatform } from "./platform.ts";
import { AgentRegistry } from "./registry.ts";
import { readMeta, writeMeta } from "./session-meta.ts";
import { parseSessionPath } from "./session-path.ts";
import {
  asPeerResult,
  type PeerRefusal,
  type SessionPeerStub,
  sessionPeers,
  subagentPort,
} from "./session-peers.ts";
import { WebSocketHub } from "./websocket-hub.ts";
import { WS_PING, WS_PONG } from "./websocket-protocol.ts";

export type { AgentServerOptions } from "./agent-server-options.ts";

/** The caller of a request that passed no auth layer (not a session route): nothing is allowed. */
const NO_CALLER: Caller = { identity: {}, scopes: [] };

/**
 * The class createAgentServer returns: a SQLite-backed Durable Object, one per session, with
 * the RPC methods sessions call on each other. Named so the published declarations can say it
 * (an anonymous class with the base's protected `ctx` and `env` cannot be emitted).
 */
export type AgentServerClass = (new (
  ctx: DurableObjectState,
  env: Record<string, unknown>,
) => DurableObject<Record<string, unknown>> & SessionPeerStub & StoreStub & AgentWorkflowStub) & {
  /** The agent types this server has, sorted (what `routeRequest`'s `/mcp/:agent` serves). */
  readonly agents: readonly string[];
  /**
   * The options it was created with: `routeRequest(..., { server })` applies their
   * `authorize`, `index` and `prices` at the Worker's own routes, so each is declared once.
   */
  readonly options: AgentServerOptions;
};

/**
 * Returns the Durable Object class that holds one agent session each. Export it
 * from your Worker under the class name bound in wrangler.jsonc.
 * @example
 * export const AgentSession = createAgentServer({ agents: [assistant] });
 */
export function createAgentServer(options: AgentServerOptions): AgentServerClass {
  // Refused here, at start, not at a session's first request.
  assertDistinctKinds(options.triggers ?? []);
  assertDistinctProjections(options.projections ?? []);
  assertDistinctSubscriptions(options.subscriptions ?? []);
  assertSessionIndex(options.index, "createAgentServer");
  declareServerRule(options.authorize);
  // A tool naming a domain its agent does not declare (AgentConfigError); allow-lists need env,
  // so they are checked when a session opens (its first request).
  if (!(options.agents instanceof AgentRegistry))
    for (const a of options.agents) assertDomainsDeclared(a);
  const registry =
    options.agents instanceof AgentRegistry ? options.agents : new AgentRegistry(options.agents);
  const logger = options.logger ?? consoleLogger;
  const live: LiveReadOptions = { ...DEFAULT_LIVE_READ, ...options.live };
  const limits = runtimeLimits(options.limits);
  // One budget for the class's objects in this isolate (module state, as the class is).
  const idlePromptCaches =
    options.idlePromptCacheBytes === undefined
      ? isolateIdlePromptCaches
      : new IdlePromptCaches(options.idlePromptCacheBytes);
  // INDEX_DB bound but no index: said once per isolate, not per session (docs/api.md#the-d1-index).
  let indexChecked = options.index !== undefined;

  return class AgentSessionObject extends DurableObject<Record<string, unknown>> {
    static get agents(): readonly string[] {
      return registry.types();
    }

    static get options(): AgentServerOptions {
      return options;
    }

    readonly #sql: SqlPort = doSqlPort(this.ctx.storage);
    #runtime: SessionRuntime | undefined;
    readonly #sockets = new WebSocketHub(this.ctx, {
      maxEvents: live.maxEvents,
      windowMs: live.windowMs,
      windowBytes: live.wsWindowBytes,
      stallMs: live.stallMs,
      logger,
    });

    constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
      super(ctx, env);
      ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(WS_PING, WS_PONG));
    }

    override fetch(request: Request): Promise<Response> {
      const deps = {
        registry,
        logger,
        env: this.env,
        sql: this.#sql,
        open: (agent: string, session: string) => this.#open(agent, session),
      };
      return serveWithPlatform(request, options, deps, (r, caller, authorizeSession) =>
        this.#serve(r, caller, authorizeSession),
      );
    }

    async #serve(
      request: Request,
      caller: Caller = NO_CALLER,
      authorizeSession?: SessionAuthority,
    ): Promise<Response> {
      try {
        const path = parseSessionPath(new URL(request.url).pathname);
        if (!path)
          return Response.json(
            { error: { code: "not_found", message: "not a session route" } },
            { status: 404 },
          );
        registry.resolve(path.agent);
        const runtime = this.#open(path.agent, path.session);
        if (path.action === SOCKET_ROUTE.action && request.method === SOCKET_ROUTE.method)
          return this.#sockets.upgrade(request, runtime.ledger, caller);
        return await handleSessionRequest(request, path.action, {
          ...this.#commandContext(runtime),
          live,
          caller,
          ...(authorizeSession ? { authorizeSession } : {}),
          prices: options.prices,
          chat: options.chat,
        });
      } catch (error) {
        return errorResponse(error, (cause) =>
          logger.error("session request failed", { error: String(cause) }),
        );
      }
    }

    /** RPC from another session: become a fork seeded with `events`. */
    async importFork(
      agent: string,
      session: string,
      events: readonly LedgerEvent[],
      reason: string,
    ): Promise<PeerRefusal | null> {
      return asPeerResult(() => {
        registry.resolve(agent);
        this.#open(agent, session).importFork(events, reason);
      });
    }

    /** RPC from another session: a sub-agent start (to a child) or a reply (to a parent). */
    async receiveSubagentMessage(message: SubagentMessage): Promise<PeerRefusal | null> {
      return asPeerResult(async () => {
        if (message.type === "start") {
          registry.resolve(message.agent);
          await this.#open(message.agent, message.session).startChild(message);
        } else if (message.type === "cancel") {
          registry.resolve(message.agent);
          await this.#open(message.agent, message.session).cancelChild(message);
        } else {
          registry.resolve(message.parent.agent);
          await this.#open(message.parent.agent, message.parent.session).receiveReply(message);
        }
      });
    }

    /** RPC from a tool's Workflow instance: the outcome of one call. A duplicate changes nothing. */
    async receiveToolResult(result: ToolWorkflowResult): Promise<PeerRefusal | null> {
      return asPeerResult(async () => {
        registry.resolve(result.call.agent);
        const { session, runId, step, callId } = result.call;
        await options.faults?.(this.ctx)?.("before-tool-result", {
          sessionId: session,
          runId,
          step,
          callId,
        });
        await this.#open(result.call.agent, session).receiveToolResult(result);
      });
    }

    /**
     * RPC from a run's Workflow instance (createAgentWorkflow): decide, perform a step, give
     * up. Refused (404) for a session this object is not, or that was never opened, and for
     * a run that is not on the Workflow executor; every call is idempotent by step.
     */
    async agentWorkflowCall(
      params: AgentWorkflowParams,
      call: AgentWorkflowCall,
    ): Promise<AgentWorkflowReply> {
      let reply: WorkflowCallReply = {};
      const refused = await asPeerResult(async () => {
        registry.resolve(params.agent);
        const meta = readMeta(this.#sql);
        if (meta?.agent !== params.agent || meta.session !== params.session)
          throw new NotFoundError(
            "session_not_found",
            `no session ${params.agent}/${params.session.slice(0, 128)} with a run on the Workflow executor`,
          );
        const runtime = this.#open(params.agent, params.session);
        const fault = {
          sessionId: params.session,
          runId: params.runId,
          step: call.type === "decide" || call.type === "giveUp" ? 0 : call.step,
          ...(call.type === "tool" || call.type === "commitTool" ? { callId: call.callId } : {}),
        };
        await options.faults?.(this.ctx)?.("before-workflow-call", fault);
        reply = await runtime.wfCall(params.runId, call);
        if (call.type === "model" || call.type === "tool")
          await options.faults?.(this.ctx)?.("after-workflow-call", fault);
      });
      if (refused) return { ok: false, refused };
      return { ok: true, ...reply };
    }

    /** RPC from Worker code (createStore, agentRuns): one read or command of this session. */
    async storeCall(agent: string, session: string, call: StoreCall): Promise<StoreReply> {
      return serveStoreRpc(call, () => {
        registry.resolve(agent);
        const runtime = this.#open(agent, session);
        return { ...this.#commandContext(runtime), prices: options.prices, live };
      });
    }

    override async alarm(): Promise<void> {
      const runtime = this.#reopen();
      if (!runtime) return;
      await runtime.alarm();
    }

    override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
      await this.#sockets.message(ws, data, () => {
        const runtime = this.#reopen();
        return runtime && this.#commandContext(runtime);
      });
    }

    /** What a session command runs against, whichever transport carried it. */
    #commandContext(runtime: SessionRuntime) {
      return {
        runtime,
        sql: this.#sql,
        clock: systemClock,
        hooks: options.hooks,
        env: this.env,
        peers: sessionPeers(this.env, options.binding ?? "AGENTS", runtime.status().agent),
      };
    }

    override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
      this.#sockets.close(ws, code, reason);
    }

    override async webSocketError(ws: WebSocket): Promise<void> {
      this.#sockets.close(ws, 1011, "socket error");
    }

    /** The runtime after a wake-up that has no URL (alarm, hibernated socket). */
    #reopen(): SessionRuntime | undefined {
      if (this.#runtime) return this.#runtime;
      const meta = readMeta(this.#sql);
      return meta && this.#open(meta.agent, meta.session);
    }

    #open(agent: string, session: string): SessionRuntime {
      if (this.#runtime) return this.#runtime;
      writeMeta(this.#sql, { agent, session });
      if (!indexChecked) {
        indexChecked = true;
        const warning = unindexedWarning(this.env);
        if (warning) logger.warn(warning, { code: "index_not_enabled" });
      }
      const runs = options.tracing?.(this.env);
      // Installed by createAgentWorkflow and createToolWorkflow, when this Worker exports them.
      const sides = workflowSides();
      this.#runtime = new SessionRuntimeBase({
        sql: this.#sql,
        agent: registry.resolve(agent, { session, env: this.env }),
        sessionId: session,
        env: this.env,
        clock: systemClock,
        logger,
        pump: options.pump,
        coalesce: options.coalesce,
        idlePromptCaches,
        limits,
        faults: options.faults?.(this.ctx),
        onComplete: options.hooks?.onComplete,
        onCompleteTimeoutMs: options.hooks?.onCompleteTimeoutMs,
        ...options.index?.extensions({
          env: this.env,
          sql: this.#sql,
          agent,
          session,
          logger,
          clock: systemClock,
          state: this.ctx,
        }),
        durable: () => this.ctx.storage.sync(),
        singleInstance: options.redriveOnRestart ?? true,
        appTriggers: options.triggers,
        cron: options.cron,
        appProjections: options.projections,
        subscriptions: options.subscriptions,
        commandHooks: options.hooks,
        subagents: subagentPort(this.env, options.binding ?? "AGENTS"),
        workflowCheckMs: options.toolWorkflowCheckMs,
        runWorkflowCheckMs: options.agentWorkflowCheckMs,
        ...(sides.tool && {
          toolWorkflows: sides.tool.executor,
          workflows: sides.tool.port(this.env, options.toolWorkflow ?? "TOOL_WORKFLOW"),
        }),
        ...(sides.agent && {
          workflowRuns: sides.agent.executor,
          agentWorkflows: sides.agent.port(this.env, options.agentWorkflow ?? "AGENT_WORKFLOW"),
        }),
        wake: (at) =>
          at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at),
        ...(runs ? { tracing: { runs, waitUntil: (flush) => this.ctx.waitUntil(flush) } } : {}),
      });
      this.#sockets.watch(this.#runtime.ledger, systemClock);
      return this.#runtime;
    }
  };
}
