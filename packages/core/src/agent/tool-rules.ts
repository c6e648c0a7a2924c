import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import { mcpToolsOfRun } from "../mcp/run-tools.ts";
import type { SqlPort } from "../sql/port.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { type Delegation, delegationOf } from "./define-subagent.ts";
import type { AnyTool } from "./define-tool.ts";
import { isWorkflowTool } from "./workflow-calls.ts";

/**
 * What the run driver asks of a run's tools, from their definitions: which tools a run has
 * (the agent's, and the MCP tools recorded for the run), who performs a call (a sub-agent,
 * a Workflow instance, the client, or the driver itself) and whether it waits for an
 * approval first. Nothing here reads or writes the ledger but the MCP tools' record.
 */
export class ToolRules {
  readonly #agent: AgentDefinition;
  readonly #sql: SqlPort;
  readonly #env: Record<string, unknown>;

  constructor(agent: AgentDefinition, sql: SqlPort, env: Record<string, unknown>) {
    this.#agent = agent;
    this.#sql = sql;
    this.#env = env;
  }

  /** The agent's tools and the MCP tools recorded for this run. */
  tools(runId: string): readonly AnyTool[] {
    const agent = this.#agent;
    if (!agent.mcp?.length) return agent.tools;
    return [...agent.tools, ...mcpToolsOfRun(agent, this.#sql, this.#env, runId).tools];
  }

  /** The sub-agent an agent tool of this name delegates to, if it does. */
  delegation(name: string): Delegation | undefined {
    return delegationOf(this.#agent.tools.find((t) => t.name === name));
  }

  /** Whether an agent tool of this name runs on Workflows (`executor: "workflow"`). */
  isWorkflow(name: string): boolean {
    return isWorkflowTool(this.#agent.tools.find((t) => t.name === name));
  }

  /** What a delegated call waits on: its Workflow instance, or else its sub-agent. */
  waitsOn(call: ToolCallRecord): "workflow" | "subagent" {
    return this.isWorkflow(call.name) ? "workflow" : "subagent";
  }

  isClientTool(call: ToolCallRecord): boolean {
    return this.tools(call.runId).find((t) => t.name === call.name)?.client === true;
  }

  /** A client-side tool always waits: for its output, sent by the client. */
  needsApproval(call: ToolCallRecord): boolean {
    if (this.isClientTool(call)) return true;
    const rule = this.tools(call.runId).find((t) => t.name === call.name)?.needsApproval;
    if (typeof rule !== "function") return rule === true;
    try {
      return rule(call.args);
    } catch {
      return true; // A rule that cannot decide asks the human.
    }
  }
}
