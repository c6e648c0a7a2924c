import { type AgentDefinition, NotFoundError } from "@durable-agents/core";

/** 404 for an agent type the server does not have; lists the ones it does. */
export class AgentNotFoundError extends NotFoundError {
  override name = "AgentNotFoundError";
  constructor(agent: string, available: readonly string[]) {
    super(
      "agent_not_found",
      `no agent named "${agent.slice(0, 64)}"; this server has: ${available.join(", ") || "(none)"}`,
      { details: { available } },
    );
  }
}

/** What a factory sees when a session of its type opens. */
export interface AgentFactoryContext {
  readonly type: string;
  readonly session: string;
  readonly env: Record<string, unknown>;
}

/** Builds the agent of one session, e.g. with a model chosen from `env`. */
export type AgentFactory = (ctx: AgentFactoryContext) => AgentDefinition;

/**
 * The agent types a server knows: fixed definitions, or factories called once
 * per session object.
 * @example
 * const registry = new AgentRegistry([assistant]);
 * registry.registerFactory("support", ({ env }) => makeSupportAgent(env));
 * export const AgentSession = createAgentServer({ agents: registry });
 */
export class AgentRegistry {
  readonly #factories = new Map<string, AgentFactory>();

  constructor(agents: readonly AgentDefinition[] = []) {
    for (const agent of agents) this.register(agent);
  }

  register(agent: AgentDefinition): void {
    this.registerFactory(agent.name, () => agent);
  }

  registerFactory(type: string, factory: AgentFactory): void {
    if (this.#factories.has(type)) throw new TypeError(`agent "${type}" is registered twice`);
    this.#factories.set(type, factory);
  }

  has(type: string): boolean {
    return this.#factories.has(type);
  }

  types(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /** The agent for `type`; throws AgentNotFoundError (404, lists the types) when unknown. */
  resolve(
    type: string,
    ctx: Omit<AgentFactoryContext, "type"> = { session: "", env: {} },
  ): AgentDefinition {
    const factory = this.#factories.get(type);
    if (!factory) throw new AgentNotFoundError(type, this.types());
    const agent = factory({ type, ...ctx });
    if (agent.name !== type)
      throw new TypeError(`the factory for "${type}" returned an agent named "${agent.name}"`);
    return agent;
  }
}
