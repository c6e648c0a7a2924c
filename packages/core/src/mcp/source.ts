import type { Admission, AdmitContext, ToolAuthority } from "../agent/governance.ts";
import type { JsonValue, ToolEffect } from "../ledger/events.ts";

/**
 * One tool of an MCP server as a run saw it: recorded in the ledger
 * (`mcp.tools_listed`) so a redriven step offers the model the same tools.
 */
export interface McpToolDescriptor {
  /** The name the model sees (after the allow-list or rename map). */
  readonly name: string;
  /** The name the server knows it by (`tools/call` `name`). */
  readonly remoteName: string;
  readonly description: string;
  /** The tool's `inputSchema` (JSON Schema, an object schema per the MCP spec). */
  readonly inputSchema: JsonValue;
}

/** What an MCP call gets from the run: the same key on every redrive, and the run's abort signal. */
export interface McpCallContext {
  readonly idempotencyKey: string;
  readonly signal: AbortSignal;
}

/**
 * An MCP server as a source of tools. The run driver depends only on this
 * interface; `mcpServer()` (`@durable-agents/core/mcp`) implements it with the
 * MCP TypeScript SDK's streamable HTTP client, so an agent without MCP servers
 * never loads the SDK.
 */
export interface McpToolSource {
  /** Unique within the agent: names the server in `mcp.tools_listed` and in errors. */
  readonly name: string;
  /** `tools/list` (all pages), filtered and renamed as declared. Throws when the server cannot be reached. */
  list(env: Record<string, unknown>, signal?: AbortSignal): Promise<McpToolDescriptor[]>;
  /**
   * `tools/call`, with the idempotency key as request metadata (`_meta`). Returns the
   * result as recorded in the ledger (see `McpContentResult`); throws a
   * `DurableAgentsError` whose `code` names what went wrong (`mcp_tool_error`,
   * `mcp_timeout`, `mcp_unreachable`, `mcp_error`).
   */
  call(
    env: Record<string, unknown>,
    tool: McpToolDescriptor,
    args: JsonValue,
    ctx: McpCallContext,
  ): Promise<JsonValue>;
  /** The effect a redrive honours for this tool. Default `irreversible`. */
  effectOf(name: string): ToolEffect;
  /** Whether a call waits for a human first. */
  needsApproval(name: string, args: JsonValue): boolean;
  /** What the tool may touch. Default `external`: it is another server's. */
  authorityOf?(name: string): ToolAuthority;
  /**
   * Admits or refuses a call before it is sent, as a local tool's `admit` does (the same
   * path: a refusal is a `tool.failed` with code `tool_refused`).
   */
  admit?(name: string, args: JsonValue, ctx: AdmitContext): Admission | Promise<Admission>;
}
