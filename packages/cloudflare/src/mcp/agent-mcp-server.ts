import {
  closedObject,
  isClientWait,
  type LedgerEvent,
  LIMITS,
  MethodNotAllowedError,
  sessionIdInput,
  validate,
} from "@durable-agents/core";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod/mini";
import { sessionObjectName } from "../agent-object/session-path.ts";

/**
 * `/mcp/:agent`: an agent served over MCP (streamable HTTP, stateless; the MCP
 * TypeScript SDK's Web-standard server transport). `tools/list` offers one tool, named
 * after the agent, that runs it on a new or named session and returns its answer: the run's
 * whole assistant text (every step's, see RunText), with the run's output in
 * `structuredContent`; progress notifications carry that text as it streams.
 *
 * Invariants:
 * 1. A parser, not a second door: the tool starts the run with `POST
 *    /agents/:agent/:session/runs` and reads it with `GET .../events`, on the session's
 *    object, with the caller's headers and query (the door's credentials: `?token=`, or
 *    what an app's `authorize` reads). Auth, scopes
 *    and hooks are the session routes' own (the start command), so a request the HTTP route
 *    refuses is refused here, with the same code.
 * 2. Nothing is held but the MCP request: the run is durable work whatever happens to it.
 * 3. POST only. Stateless, the server has no standalone SSE stream to offer on GET and no
 *    session to end on DELETE: both are a 405 with `Allow: POST`, which the MCP spec
 *    (2025-06-18, Streamable HTTP, "Listening for Messages from the Server" and "Session
 *    Management") gives for exactly that, and which its clients take as "no stream here".
 * 4. The tool's arguments are the runtime's own input (`toolInput`, a closedObject): the
 *    advertised inputSchema is derived from it (`additionalProperties: false`), and the
 *    runtime's own check (`validate`) refuses what it does not take, a misspelt `sesion` as
 *    much as a message too long, with the message the HTTP routes give; nothing starts. That
 *    refusal is a tool result with `isError: true`, how MCP tools report input errors (the
 *    SDK's McpServer does the same; the 2025-11-25 spec, SEP-1303, says so), so a model can
 *    correct its call. A tool name the server does not have is a JSON-RPC invalid params error.
 */
export async function serveAgentMcp(
  request: Request,
  agent: string,
  agents: DurableObjectNamespace,
): Promise<Response> {
  // Thrown: routeRequest, which calls `serve`, renders it like every other error.
  if (request.method !== "POST")
    throw new MethodNotAllowedError(
      request.method,
      `/mcp/${agent}`,
      ["POST"],
      "the MCP server is stateless: it offers no standalone SSE stream and has no session to end",
    );
  const input = toolInput(agent);
  const server = new Server(
    { name: `durable-agents ${agent}`, version: "0.1.0" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: agent,
        description: `Runs the agent "${agent}" on a session and returns its answer. Omit session for a new one; name one to continue its conversation.`,
        inputSchema: z.toJSONSchema(input, { io: "input" }) as { type: "object" },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (call, extra): Promise<ToolAnswer> => {
    if (call.params.name !== agent)
      throw new McpError(
        ErrorCode.InvalidParams,
        `this server has no tool "${call.params.name}"; its one tool is "${agent}"`,
      );
    let args: z.output<typeof input>;
    try {
      args = validate(input, call.params.arguments ?? {}, `this call of the "${agent}" tool`);
    } catch (error) {
      return failure((error as Error).message);
    }
    try {
      return await runTool(request, agent, agents, args, extra);
    } catch (error) {
      return failure(error instanceof Error ? error.message : String(error));
    }
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return transport.handleRequest(request);
}

/**
 * The tool's arguments: the start command's message (its own bound, so the schema promises
 * what the run takes) and the session to run on, and nothing else.
 */
function toolInput(agent: string) {
  return closedObject(`the "${agent}" tool`, {
    message: z.string().check(z.minLength(1), z.maxLength(LIMITS.maxMessageChars)),
    session: z.optional(sessionIdInput),
  });
}

/** What the MCP request handler is given besides the request (its signal, notifications). */
type CallExtra = Parameters<Parameters<Server["setRequestHandler"]>[1]>[1];

/** Runs the agent on the named (or a new) session and follows the run to its end. */
async function runTool(
  request: Request,
  agent: string,
  agents: DurableObjectNamespace,
  { message, session: named }: { message: string; session?: string },
  extra: CallExtra,
): Promise<ToolAnswer> {
  const session = named ?? `mcp-${crypto.randomUUID()}`;
  const stub = agents.get(agents.idFromName(sessionObjectName(agent, session)));
  const headers = forwarded(request);
  const path = sessionPath(request, agent, session);
  const started = await stub.fetch(path("runs"), {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ input: { message } }),
  });
  const body = (await started.json()) as {
    runId?: string;
    offset?: string;
    error?: { code: string; message: string };
  };
  if (!started.ok || !body.runId) return refused(started.status, body.error);
  const token = extra._meta?.progressToken;
  const text = new RunText();
  let progress = 0;
  let offset = body.offset ?? "-1";
  for (;;) {
    const read = await stub.fetch(path("events", { offset, live: "long-poll" }), {
      headers,
      signal: extra.signal,
    });
    if (read.status === 204) {
      offset = read.headers.get("stream-next-offset") ?? offset;
      continue;
    }
    if (!read.ok) return refused(read.status, ((await read.json()) as { error?: never }).error);
    offset = read.headers.get("stream-next-offset") ?? offset;
    for (const event of (await read.json()) as LedgerEvent[]) {
      if (event.runId !== body.runId) continue;
      const piece = text.read(event);
      if (piece !== undefined && token !== undefined)
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, progress: ++progress, message: piece },
        });
      const end = ending(event, session, text.whole());
      if (end) return end;
    }
  }
}

type ToolAnswer = {
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/**
 * The run's whole assistant text, as a chat shows it: each step's text (`model.completed`),
 * the steps' texts joined by a blank line. `read` gives the piece of it a `model.delta` adds
 * (with the blank line before a later step's first piece), so the progress messages, joined,
 * are the answer. Only a step redriven after a crash mid-answer streams its text twice.
 */
class RunText {
  readonly #steps: string[] = [];
  #streaming: number | undefined;
  #streamed = false;

  read(event: LedgerEvent): string | undefined {
    if (event.kind === "model.completed" && event.data.text !== "")
      this.#steps.push(event.data.text);
    if (event.kind !== "model.delta" || event.data.text === "") return undefined;
    const first = this.#streaming !== event.data.step;
    const piece = first && this.#streamed ? `\n\n${event.data.text}` : event.data.text;
    this.#streaming = event.data.step;
    this.#streamed = true;
    return piece;
  }

  whole(): string {
    return this.#steps.join("\n\n");
  }
}

function ending(event: LedgerEvent, session: string, whole: string): ToolAnswer | undefined {
  switch (event.kind) {
    case "run.completed": {
      const output = event.data.output;
      const text = whole || (typeof output === "string" ? output : JSON.stringify(output));
      return {
        content: [{ type: "text", text }],
        structuredContent: { session, runId: event.runId, output },
      };
    }
    case "run.failed":
      return failure(
        `the run failed (${event.data.error.code}): ${event.data.error.message}; retry it on session ${session} (POST .../retry)`,
      );
    case "run.aborted":
      return failure(`the run was aborted on session ${session}: ${event.data.reason}`);
    case "run.interrupted":
      return failure(
        `the run was interrupted: ${event.data.reason}; resume it on session ${session}`,
      );
    case "run.waiting":
      // Sub-agents and Workflows answer on their own; a human decision does not come over MCP.
      if (!isClientWait(event)) return undefined;
      return failure(
        `the run is waiting (${event.data.reason}) on session ${session}; answer it through the session routes (POST .../resume)`,
      );
    default:
      return undefined;
  }
}

function failure(text: string): ToolAnswer {
  return { isError: true, content: [{ type: "text", text }] };
}

function refused(status: number, error: { code: string; message: string } | undefined): ToolAnswer {
  return failure(
    `refused (${status} ${error?.code ?? "error"}): ${error?.message ?? "no details"}`,
  );
}

/**
 * The session route's URL on the caller's origin, with the caller's whole query (the door
 * takes a token in `?token=`, and an app's `authorize` may read another parameter: the session
 * routes must see what the door saw). The streamable HTTP transport puts nothing of its own in
 * the query (its session is a header), so nothing is removed; the route's own parameters
 * (`offset`, `live` of the events read) are set over a caller's of the same name.
 */
function sessionPath(
  request: Request,
  agent: string,
  session: string,
): (action: string, query?: Record<string, string>) => string {
  const caller = new URL(request.url);
  return (action, query = {}) => {
    const url = new URL(`/agents/${agent}/${session}/${action}`, caller.origin);
    url.search = caller.search;
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url.href;
  };
}

/** Headers of the MCP exchange itself: its body, its transport, its session. */
const NOT_FORWARDED = [
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "host",
  "accept",
  "accept-encoding",
  "last-event-id",
  "mcp-session-id",
  "mcp-protocol-version",
];

/**
 * The caller's headers, passed to the session routes as they came (less those of the MCP
 * exchange), so an app's `authorize` that reads a cookie or an API key header sees at the
 * session routes what it saw at the door.
 */
function forwarded(request: Request): Record<string, string> {
  const headers = new Headers(request.headers);
  for (const name of NOT_FORWARDED) headers.delete(name);
  return Object.fromEntries(headers);
}
