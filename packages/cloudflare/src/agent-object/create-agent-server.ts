import { DurableObject } from "cloudflare:workers";
import {
  type AgentDefinition,
  type CoalesceOptions,
  consoleLogger,
  DEFAULT_LIVE_READ,
  errorResponse,
  type FaultInjector,
  handleSessionRequest,
  type LiveReadOptions,
  type Logger,
  type PumpOptions,
  SessionRuntime,
  type SqlPort,
  systemClock,
} from "@durable-agents/core";
import { doSqlPort } from "../sql/do-sql-port.ts";
import { type PlatformOptions, serveWithPlatform, watchCompletions } from "./platform.ts";
import { AgentRegistry } from "./registry.ts";
import { readMeta, writeMeta } from "./session-meta.ts";
import { parseSessionPath } from "./session-path.ts";

export interface AgentServerOptions extends PlatformOptions {
  readonly agents: readonly AgentDefinition[];
  readonly logger?: Logger;
  /** Long-poll and SSE windows; see docs/limits.md for the defaults. */
  readonly live?: Partial<LiveReadOptions>;
  readonly pump?: Partial<PumpOptions>;
  readonly coalesce?: CoalesceOptions;
  /** Test hook: crash points for the fault-injection suite. Never set in production. */
  readonly faults?: (ctx: DurableObjectState) => FaultInjector | undefined;
}

/**
 * Returns the Durable Object class that holds one agent session each. Export it
 * from your Worker under the class name bound in wrangler.jsonc.
 * @example
 * export const AgentSession = createAgentServer({ agents: [assistant] });
 */
export function createAgentServer(options: AgentServerOptions) {
  const registry = new AgentRegistry(options.agents);
  const logger = options.logger ?? consoleLogger;
  const live: LiveReadOptions = { ...DEFAULT_LIVE_READ, ...options.live };

  return class AgentSessionObject extends DurableObject<Record<string, unknown>> {
    readonly #sql: SqlPort = doSqlPort(this.ctx.storage);
    #runtime: SessionRuntime | undefined;

    override fetch(request: Request): Promise<Response> {
      const deps = {
        registry,
        logger,
        env: this.env,
        open: (agent: string, session: string) => this.#open(agent, session),
      };
      return serveWithPlatform(request, options, deps, (r) => this.#serve(r));
    }

    async #serve(request: Request): Promise<Response> {
      try {
        const path = parseSessionPath(new URL(request.url).pathname);
        if (!path)
          return Response.json(
            { error: { code: "not_found", message: "not a session route" } },
            { status: 404 },
          );
        registry.resolve(path.agent);
        const runtime = this.#open(path.agent, path.session);
        return await handleSessionRequest(request, path.action, {
          runtime,
          sql: this.#sql,
          clock: systemClock,
          live,
          hooks: options.hooks,
          env: this.env,
          prices: options.prices,
        });
      } catch (error) {
        return errorResponse(error, (cause) =>
          logger.error("session request failed", { error: String(cause) }),
        );
      }
    }

    override async alarm(): Promise<void> {
      const meta = this.#runtime ? undefined : readMeta(this.#sql);
      const runtime = this.#runtime ?? (meta && this.#open(meta.agent, meta.session));
      if (!runtime) return;
      await runtime.alarm();
    }

    #open(agent: string, session: string): SessionRuntime {
      if (this.#runtime) return this.#runtime;
      writeMeta(this.#sql, { agent, session });
      this.#runtime = new SessionRuntime({
        sql: this.#sql,
        agent: registry.resolve(agent),
        sessionId: session,
        env: this.env,
        clock: systemClock,
        logger,
        pump: options.pump,
        coalesce: options.coalesce,
        faults: options.faults?.(this.ctx),
        wake: (at) =>
          at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at),
      });
      watchCompletions(this.#runtime, options.hooks, logger);
      return this.#runtime;
    }
  };
}
