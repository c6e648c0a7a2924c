import type { LanguageModelV4FunctionTool } from "@ai-sdk/provider";
import type { AgentDefinition } from "../agent/define-agent.ts";
import type { AnyTool } from "../agent/define-tool.ts";
import type { AdmitContext } from "../agent/governance.ts";
import { RetryableError, TerminalError } from "../errors/base.ts";
import type { JsonValue, NewEvent } from "../ledger/events.ts";
import type { SqlPort } from "../sql/port.ts";
import { jsonValue } from "../validation/fields.ts";
import { latestMcpDigest, recordedMcpTools } from "./mcp-tools-projection.ts";
import type { McpToolDescriptor, McpToolSource } from "./source.ts";

/**
 * MCP tools in a run.
 *
 * Invariants:
 * 1. A run lists each MCP server once, before its first model call, and records the
 *    list (`mcp.tools_listed`); every later step of the run, on any object, builds the
 *    model's tools from that record, never from the live server.
 * 2. An MCP tool is a tool like any other from there on: `tool.started` with its declared
 *    effect (default `irreversible`) and key, approvals, `tool.completed`/`tool.failed`.
 */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Lists the servers this run has no record of yet, and returns the events that record them. */
export async function listMcpTools(
  agent: AgentDefinition,
  sql: SqlPort,
  env: Record<string, unknown>,
  runId: string,
  signal?: AbortSignal,
): Promise<NewEvent<"mcp.tools_listed">[]> {
  const servers = agent.mcp ?? [];
  if (servers.length === 0) return [];
  const recorded = recordedMcpTools(sql, runId);
  const missing = servers.filter((s) => !recorded.has(s.name));
  const lists = await Promise.all(
    missing.map(async (server) => {
      try {
        return { server, tools: await server.list(env, signal) };
      } catch (error) {
        throw new RetryableError(
          "mcp_list_failed",
          `MCP server "${server.name}" did not list its tools: ${errorText(error)}; check that it is up and its URL and credentials`,
          { cause: error },
        );
      }
    }),
  );
  const names = new Set(agent.tools.map((t) => t.name));
  for (const r of recorded.values()) for (const t of r.tools) names.add(t.name);
  const events: NewEvent<"mcp.tools_listed">[] = [];
  for (const { server, tools } of lists) {
    for (const tool of tools) checkName(server.name, tool.name, names);
    const digest = await digestOf(tools);
    const previousDigest = latestMcpDigest(sql, server.name);
    events.push({
      kind: "mcp.tools_listed",
      runId,
      data: {
        server: server.name,
        tools: tools.map((t) => ({ ...t })),
        digest,
        ...(previousDigest === undefined ? {} : { previousDigest }),
      },
    });
  }
  return events;
}

/** The run's MCP tools as tools the driver runs (from the record; empty before listing). */
export function mcpToolsOfRun(
  agent: AgentDefinition,
  sql: SqlPort,
  env: Record<string, unknown>,
  runId: string,
): { tools: AnyTool[]; specs: LanguageModelV4FunctionTool[] } {
  const servers = agent.mcp ?? [];
  if (servers.length === 0) return { tools: [], specs: [] };
  const recorded = recordedMcpTools(sql, runId);
  const tools: AnyTool[] = [];
  const specs: LanguageModelV4FunctionTool[] = [];
  for (const server of servers) {
    for (const descriptor of recorded.get(server.name)?.tools ?? []) {
      tools.push(asTool(server, descriptor, env));
      specs.push({
        type: "function",
        name: descriptor.name,
        description: descriptor.description,
        inputSchema: descriptor.inputSchema as LanguageModelV4FunctionTool["inputSchema"],
      });
    }
  }
  return { tools, specs };
}

/** The server checks the arguments against its own schema; here they need only be JSON. */
const anyJson = jsonValue;

function asTool(
  server: McpToolSource,
  descriptor: McpToolDescriptor,
  env: Record<string, unknown>,
): AnyTool {
  return {
    name: descriptor.name,
    description: descriptor.description,
    input: anyJson,
    effect: server.effectOf(descriptor.name),
    needsApproval: (input: JsonValue) => server.needsApproval(descriptor.name, input),
    authority: server.authorityOf?.(descriptor.name) ?? "external",
    ...(server.admit
      ? {
          admit: (input: JsonValue, ctx: AdmitContext) =>
            server.admit?.(descriptor.name, input, ctx) ?? { admitted: true },
        }
      : {}),
    execute: (input: JsonValue, ctx) =>
      server.call(env, descriptor, input, {
        idempotencyKey: ctx.idempotencyKey,
        signal: ctx.signal,
      }),
  };
}

function checkName(server: string, name: string, taken: Set<string>): void {
  if (!TOOL_NAME.test(name))
    throw new TerminalError(
      "mcp_tool_name_invalid",
      `MCP server "${server}" offers a tool named "${name.slice(0, 100)}", which is not 1-64 letters, digits, _ or -; rename it in the server's tools map`,
    );
  if (taken.has(name))
    throw new TerminalError(
      "mcp_tool_name_conflict",
      `MCP server "${server}" offers a tool named "${name}", which the agent already has; rename it in the server's tools map`,
    );
  taken.add(name);
}

/** SHA-256 (hex) over the list's JSON: the same tools in the same order give the same digest. */
export async function digestOf(tools: readonly McpToolDescriptor[]): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(tools));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
