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

export class AgentRegistry {
  readonly #agents = new Map<string, AgentDefinition>();

  constructor(agents: readonly AgentDefinition[] = []) {
    for (const agent of agents) this.register(agent);
  }

  register(agent: AgentDefinition): void {
    if (this.#agents.has(agent.name))
      throw new TypeError(`agent "${agent.name}" is registered twice`);
    this.#agents.set(agent.name, agent);
  }

  has(name: string): boolean {
    return this.#agents.has(name);
  }

  types(): string[] {
    return [...this.#agents.keys()].sort();
  }

  resolve(name: string): AgentDefinition {
    const agent = this.#agents.get(name);
    if (!agent) throw new AgentNotFoundError(name, this.types());
    return agent;
  }
}
