import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type { Admission, AdmitContext, ToolAuthority } from "../agent/governance.ts";
import { DurableAgentsError, RetryableError, TerminalError } from "../errors/base.ts";
import type { JsonValue, ToolEffect } from "../ledger/events.ts";
import type { McpContentResult } from "./content.ts";
import type { McpCallContext, McpToolDescriptor, McpToolSource } from "./source.ts";

type Env = Record<string, unknown>;
type FromEnv<T> = T | ((env: Env) => T);

/** Declares an MCP server (streamable HTTP) whose tools an agent offers the model. */
export interface McpServerOptions {
  /** Unique within the agent; names the server in the ledger and in errors. */
  readonly name: string;
  /** The server's streamable HTTP endpoint, e.g. `https://example.com/mcp`. */
  readonly url: FromEnv<string>;
  /** Extra request headers (an API key header, for example). */
  readonly headers?: FromEnv<Record<string, string>>;
  /** The name of an `env` variable whose value is sent as `authorization: Bearer <value>`. */
  readonly bearerTokenEnv?: string;
  /**
   * Which tools to offer: a list of the server's tool names (an allow-list), or a map from
   * the server's name to the name the model sees (only those, renamed). Default: all.
   */
  readonly tools?: readonly string[] | Readonly<Record<string, string>>;
  /**
   * Each tool's effect, by the name the model sees; others get `defaultEffect`. The effect
   * decides a redrive after a crash between `tool.started` and the result (docs/guarantees.md).
   */
  readonly effects?: Readonly<Record<string, ToolEffect>>;
  /** Default `irreversible`: an unknown remote call may not be safe to repeat. */
  readonly defaultEffect?: ToolEffect;
  /** Pause for a human before calling: all tools (`true`), the named ones, or a rule. */
  readonly needsApproval?:
    | boolean
    | readonly string[]
    | ((name: string, args: JsonValue) => boolean);
  /**
   * Admits or refuses each call (by the name the model sees) before it is sent; a refusal
   * is a `tool.failed` (`tool_refused`) with the reason, as for a local tool's `admit`.
   */
  readonly admit?: (
    name: string,
    args: JsonValue,
    ctx: AdmitContext,
  ) => Admission | Promise<Admission>;
  /** What the server's tools may touch (ToolAuthority), by the name the model sees. Default `external`. */
  readonly authority?: Readonly<Record<string, ToolAuthority>>;
  /** A `tools/call` that has no answer after this long fails as `mcp_timeout`. Default 60,000 ms. */
  readonly timeoutMs?: number;
  /** The fetch to reach the server with (a service binding's `fetch`, for one). Default: global fetch. */
  readonly fetch?: (env: Env) => typeof fetch;
}

/** The metadata key the idempotency key travels under in `tools/call` `_meta`. */
export const IDEMPOTENCY_META_KEY = "durable-agents/idempotency-key";

/**
 * An MCP server as a tool source, on the MCP TypeScript SDK's client and its
 * streamable HTTP transport (fetch only; JSON Schema checks by @cfworker/json-schema,
 * which needs no code generation, so it runs in workerd). Each list and each call
 * opens its own connection: a Durable Object cannot share I/O across requests.
 * @example
 * defineAgent({ ..., mcp: [mcpServer({ name: "docs", url: "https://docs.example/mcp", effects: { search: "pure" } })] })
 */
export function mcpServer(options: McpServerOptions): McpToolSource {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(options.name))
    throw new TypeError(`MCP server name "${options.name}" must be 1-64 letters, digits, _ or -`);
  const rename = renamer(options.tools);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    name: options.name,
    async list(env, signal) {
      return withClient(options, env, async (client) => {
        const tools: McpToolDescriptor[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listTools(cursor ? { cursor } : {}, {
            signal,
            timeout: timeoutMs,
          });
          for (const tool of page.tools) {
            const name = rename(tool.name);
            if (name === undefined) continue;
            tools.push({
              name,
              remoteName: tool.name,
              description: tool.description ?? tool.title ?? tool.name,
              inputSchema: tool.inputSchema as JsonValue,
            });
          }
          cursor = page.nextCursor;
        } while (cursor);
        return tools;
      });
    },
    async call(env, tool, args, ctx) {
      try {
        return await withClient(options, env, (client) =>
          callTool(client, tool, args, ctx, timeoutMs),
        );
      } catch (error) {
        if (ctx.signal.aborted)
          throw new TerminalError("aborted", `${tool.name} was cut off: the run was aborted`);
        throw callError(options.name, tool, error, timeoutMs);
      }
    },
    authorityOf: (name) => options.authority?.[name] ?? "external",
    ...(options.admit ? { admit: options.admit } : {}),
    effectOf: (name) => options.effects?.[name] ?? options.defaultEffect ?? "irreversible",
    needsApproval(name, args) {
      const rule = options.needsApproval;
      if (typeof rule === "function") return rule(name, args);
      if (Array.isArray(rule)) return rule.includes(name);
      return rule === true;
    },
  };
}

async function callTool(
  client: Client,
  tool: McpToolDescriptor,
  args: JsonValue,
  ctx: McpCallContext,
  timeoutMs: number,
): Promise<JsonValue> {
  // A POST stream cut before its answer is not resumed (a stateless server sends no event
  // ids), and the SDK would wait for the timeout: end the call when the transport reports it.
  const cut = new AbortController();
  client.onerror = (error) => {
    if (/disconnected|terminated|fetch failed/i.test(error.message))
      cut.abort(new McpError(ErrorCode.ConnectionClosed, error.message));
  };
  const result = await client.callTool(
    {
      name: tool.remoteName,
      arguments: (args ?? {}) as Record<string, unknown>,
      _meta: { [IDEMPOTENCY_META_KEY]: ctx.idempotencyKey },
    },
    undefined,
    { signal: AbortSignal.any([ctx.signal, cut.signal]), timeout: timeoutMs },
  );
  const content = (Array.isArray(result.content) ? result.content : []) as JsonValue[];
  if (result.isError) {
    const text = content
      .map((c) => (c && typeof c === "object" && "text" in c ? String(c.text) : ""))
      .filter(Boolean)
      .join("\n");
    throw new TerminalError(
      "mcp_tool_error",
      `${tool.name} failed on the MCP server: ${text.slice(0, 1000) || "(no message)"}`,
    );
  }
  const recorded: McpContentResult = {
    type: "mcp.content",
    content,
    ...(result.structuredContent === undefined
      ? {}
      : { structuredContent: result.structuredContent as JsonValue }),
  };
  return recorded as unknown as JsonValue;
}

async function withClient<T>(
  options: McpServerOptions,
  env: Env,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const url = new URL(typeof options.url === "function" ? options.url(env) : options.url);
  const headers = {
    ...(typeof options.headers === "function" ? options.headers(env) : options.headers),
  };
  if (options.bearerTokenEnv) {
    const token = env[options.bearerTokenEnv];
    if (typeof token !== "string" || token === "")
      throw new TerminalError(
        "mcp_credentials_missing",
        `MCP server "${options.name}" needs the env variable ${options.bearerTokenEnv} (its bearer token); set it (wrangler secret put ${options.bearerTokenEnv})`,
      );
    headers.authorization = `Bearer ${token}`;
  }
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers },
    ...(options.fetch ? { fetch: options.fetch(env) } : {}),
  });
  const client = new Client(
    { name: "durable-agents", version: "0.1.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  try {
    return await use(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function renamer(tools: McpServerOptions["tools"]): (remote: string) => string | undefined {
  if (tools === undefined) return (remote) => remote;
  if (Array.isArray(tools)) return (remote) => (tools.includes(remote) ? remote : undefined);
  const map = tools as Readonly<Record<string, string>>;
  return (remote) => (Object.hasOwn(map, remote) ? map[remote] : undefined);
}

/** Every way a call can fail, as a typed error whose code the model and the ledger see. */
function callError(
  server: string,
  tool: McpToolDescriptor,
  error: unknown,
  timeoutMs: number,
): DurableAgentsError {
  if (error instanceof DurableAgentsError) return error;
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout)
    return new RetryableError(
      "mcp_timeout",
      `${tool.name} on MCP server "${server}" gave no answer within ${timeoutMs} ms; its outcome is unknown to the server's caller`,
      { cause: error },
    );
  if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed)
    return new TerminalError(
      "mcp_error",
      `MCP server "${server}" refused ${tool.name} (JSON-RPC ${error.code}): ${message}`,
      { cause: error },
    );
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code < 500)
    return new TerminalError(
      "mcp_error",
      `MCP server "${server}" answered HTTP ${error.code} to ${tool.name}: ${message}`,
      { cause: error },
    );
  return new RetryableError(
    "mcp_unreachable",
    `MCP server "${server}" could not be reached or dropped the connection during ${tool.name}: ${message}`,
    { cause: error },
  );
}
