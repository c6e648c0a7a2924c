import { env, SELF } from "cloudflare:test";
import { ID_RULE, LIMITS, mintSessionToken } from "@durable-agents/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { describe, expect, it } from "vitest";
import { routeRequest } from "../src/index.ts";
import { serveAgentMcp } from "../src/mcp/index.ts";
import { QUERY_KEY, QueryKeySession } from "./fixture/query-key.ts";
import { BASE } from "./support/session.ts";

/**
 * The MCP TypeScript SDK's own client against `/mcp/:agent`, through the Worker entry (or
 * `via.worker`), with `token` as a Bearer header and `via.query` (`?...`) on the URL.
 */
async function connect(
  agent: string,
  token?: string,
  via: { query?: string; worker?: (request: Request) => Promise<Response> } = {},
): Promise<Client> {
  const { query = "", worker } = via;
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp/${agent}${query}`), {
    fetch: (input, init) =>
      worker ? worker(new Request(input as string, init)) : SELF.fetch(input as string, init),
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client(
    { name: "test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
}

/** What a promise rejected with, or undefined when it did not. */
function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A bare MCP `tools/list` POST to `/mcp/:agent`, as a plain HTTP client sends it. */
function postToolsList(agent: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}/mcp/${agent}`, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

describe("/mcp/:agent: an agent served over MCP", () => {
  it("lists the agent's tool, runs it on a named session and answers, with progress notifications of its text", async () => {
    const session = `mcp_${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const client = await connect("chatty", token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["chatty"]);
    expect(Object.keys(tools[0]?.inputSchema.properties ?? {})).toEqual(["message", "session"]);
    const progress: string[] = [];
    const result = await client.callTool(
      { name: "chatty", arguments: { message: "hi", session } },
      undefined,
      {
        onprogress: (p) => progress.push(p.message ?? ""),
      },
    );
    const answer = "The quick brown fox jumps over the lazy dog. ".repeat(4);
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: answer }]);
    expect(result.structuredContent).toMatchObject({ session, output: answer });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.join("")).toBe(answer);
    // The run is the session's, as if started over HTTP.
    const status = await SELF.fetch(`${BASE}/agents/chatty/${session}/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await status.json()) as { status: string }).status).toBe("completed");
    await client.close();
  });

  it("a run of several steps: the answer is the run's whole text, as its progress showed it; the output is its last step's", async () => {
    const session = `mcp_${Date.now()}_steps`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "probe", session });
    const client = await connect("probe", token);
    const progress: string[] = [];
    const result = await client.callTool(
      { name: "probe", arguments: { message: "go", session } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? "") },
    );
    const whole = "Working on it.\n\nOnce more.\n\nAll done: one, two.";
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: whole }]);
    expect(progress.join("")).toBe(whole);
    expect(result.structuredContent).toMatchObject({ session, output: "All done: one, two." });
    await client.close();
  });

  // Review finding: tools/list promised message.maxLength 100000 while the start command refuses
  // more than LIMITS.maxMessageChars; a client that trusted the schema got a refusal.
  it("the tool's schema bounds the message by the start command's own limit: the longest it advertises runs, one more is refused by the schema", async () => {
    const session = `mcp_${Date.now()}_long`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const client = await connect("chatty", token);
    const { tools } = await client.listTools();
    const message = tools[0]?.inputSchema.properties?.message as { maxLength?: number };
    expect(message.maxLength).toBe(LIMITS.maxMessageChars);
    const longest = await client.callTool({
      name: "chatty",
      arguments: { message: "a".repeat(LIMITS.maxMessageChars), session },
    });
    expect(JSON.stringify(longest.content)).not.toContain("refused");
    expect(longest.isError).toBeFalsy();
    const over = await client.callTool({
      name: "chatty",
      arguments: { message: "a".repeat(LIMITS.maxMessageChars + 1), session: `${session}_over` },
    });
    expect(over.isError).toBe(true);
    expect(JSON.stringify(over.content)).not.toContain("refused (400");
    await client.close();
  });

  // Review finding: a bad session was refused in zod's words ("Invalid string: must match
  // pattern /.../"), not with the rule a fork's session (or a path's id) is refused with.
  it("a session that is not a session id is refused with the id rule, and nothing starts", async () => {
    const session = `mcp_${Date.now()}_badid`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const client = await connect("chatty", token);
    const result = await client.callTool({
      name: "chatty",
      arguments: { message: "hi", session: "no spaces!" },
    });
    await client.close();
    const [content] = result.content as { type: string; text: string }[];
    expect(result.isError).toBe(true);
    expect(content?.text).toContain(`session is not a session id; ${ID_RULE}`);
    expect(content?.text).not.toContain("must match pattern");
  });

  // Review finding: the tool dropped an argument it does not take, where every command door
  // refuses one: `sesion` (misspelt) ran the agent on a server-named mcp-<uuid> session, so
  // with a session token the call failed with a 403 about a session the caller never named.
  it("an argument the tool does not take (a misspelt session) is refused, named with what the tool takes, and nothing starts; the schema says so", async () => {
    const session = `mcp_${Date.now()}_typo`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const client = await connect("chatty", token);
    const result = await client.callTool({
      name: "chatty",
      arguments: { message: "hi", sesion: session },
    });
    const { tools } = await client.listTools();
    // A tool the server does not have is the protocol's error, not a tool result.
    const unknown = await refusal(client.callTool({ name: "chaty", arguments: { message: "hi" } }));
    await client.close();
    expect(unknown).toMatchObject({ code: -32602, message: expect.stringContaining('"chaty"') });
    const [content] = result.content as { type: string; text: string }[];
    expect({ isError: result.isError, text: content?.text }).toEqual({
      isError: true,
      text: expect.stringContaining('unknown field "sesion"'),
    });
    expect(content?.text).toBe(
      'this call of the "chatty" tool is invalid: sesion: unknown field "sesion"; the "chatty" tool takes message, session and nothing else',
    );
    expect(tools[0]?.inputSchema).toMatchObject({ additionalProperties: false });
    const status = await SELF.fetch(`${BASE}/agents/chatty/${session}/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await status.json()) as { runId: string | null }).runId).toBeNull();
  });

  // Review finding: GET with accept: text/event-stream answered 200 and a keepalive, then
  // nothing, forever: a stateless server has nothing to send on a standalone stream.
  it("GET and DELETE are a 405 with Allow: POST (stateless: no standalone stream, no session to end), after the door; the SDK client still connects, lists and calls", async () => {
    const session = `mcp_${Date.now()}_get`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    for (const method of ["GET", "DELETE"]) {
      const response = await SELF.fetch(`${BASE}/mcp/chatty`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      });
      // (Status first: the old answer was a stream that never ends.)
      if (response.status !== 405) await response.body?.cancel();
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("method_not_allowed");
      expect(error.message).toContain("stateless");
    }
    // The door still comes first: no token, a 401, not a hint about methods.
    const bare = await SELF.fetch(`${BASE}/mcp/chatty`, {
      headers: { accept: "text/event-stream" },
    });
    expect(bare.status).toBe(401);
    await bare.body?.cancel();
    // The SDK client opens that GET after initialize and takes the 405 as "no stream here".
    const client = await connect("chatty", token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["chatty"]);
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(result.isError).toBeFalsy();
    await client.close();
  });

  it("a token in the URL (`?token=`, as the door takes it) reaches the session routes too: the tool runs, not refused inside", async () => {
    const session = `mcp_${Date.now()}_query`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const client = await connect("chatty", undefined, { query: `?token=${token}` });
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(JSON.stringify(result.content)).not.toContain("refused");
    expect(result.isError).toBeFalsy();
    await client.close();
  });

  it("an app rule that reads its own query parameter (`?key=`) sees it at the session routes too: the caller's whole query is forwarded", async () => {
    const session = `mcp_${Date.now()}_key`;
    const worker = (request: Request) =>
      routeRequest(request, { ...env, AGENTS: env.QUERY_KEY }, undefined, {
        server: QueryKeySession,
        mcp: { serve: serveAgentMcp },
      });
    const client = await connect("chatty", undefined, { query: `?key=${QUERY_KEY}`, worker });
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(JSON.stringify(result.content)).not.toContain("refused");
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ session });
    await client.close();
    // The door refuses without the key: the rule is applied, not skipped.
    const bare = await worker(
      new Request(`${BASE}/agents/chatty/${session}/status`, { headers: {} }),
    );
    expect(bare.status).toBe(401);
  });

  it("without a token it is refused at the door: a 401 with www-authenticate, before the MCP transport, and nothing starts", async () => {
    const refused = await refusal(connect("chatty"));
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(401);
    // The same answer as the session routes give: the error JSON and a Bearer challenge.
    const raw = await postToolsList("chatty");
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    // A bad signature and a token of another agent are refused there too.
    const other = await mintSessionToken(env.AUTH_SECRET, { agent: "approver", session: "x" });
    const wrong = await refusal(connect("chatty", other));
    expect((wrong as StreamableHTTPError).code).toBe(403);
    const forged = await refusal(connect("chatty", `${other}x`));
    expect((forged as StreamableHTTPError).code).toBe(401);
  });

  it("an agent the server does not have is a 404 at the door, naming the ones it has, before the MCP transport", async () => {
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "nosuchagent", session: "x" });
    const refused = await refusal(connect("nosuchagent", token));
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(404);
    const raw = await postToolsList("nosuchagent", { authorization: `Bearer ${token}` });
    expect(raw.status).toBe(404);
    const { error } = (await raw.json()) as {
      error: { code: string; message: string; details: { available: string[] } };
    };
    expect(error.code).toBe("agent_not_found");
    expect(error.message).toContain('no agent named "nosuchagent"');
    expect(error.message).toContain("chatty");
    expect(error.details.available).toContain("chatty");
  });

  it("a token of another session of the agent opens the door, but its tool call on this session is refused by the session routes and starts nothing", async () => {
    const session = `mcp_${Date.now()}_other`;
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session: "elsewhere",
    });
    const client = await connect("chatty", token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["chatty"]);
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("403 wrong_session");
    const own = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const status = await SELF.fetch(`${BASE}/agents/chatty/${session}/status`, {
      headers: { authorization: `Bearer ${own}` },
    });
    expect(((await status.json()) as { runId: string | null }).runId).toBeNull();
    await client.close();
  });

  // Review finding: api.md says a run that fails, is aborted or interrupted, or waits ends the
  // call with a message naming the session; a failed or aborted one did not name it, so a
  // caller that let the server pick `mcp-<uuid>` could not find the run to retry it.
  it("a failed run ends the call with isError and a message naming the session, to retry it there", async () => {
    const session = `mcp_${Date.now()}_failed`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "verbose", session });
    const client = await connect("verbose", token);
    const result = await client.callTool({
      name: "verbose",
      arguments: { message: "hi", session },
    });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("the run failed");
    expect(JSON.stringify(result.content)).toContain(`session ${session}`);
    await client.close();
  });

  it("a read-only token cannot start a run over MCP (the start command's scope)", async () => {
    const session = `mcp_${Date.now()}_ro`;
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session,
      scope: ["read"],
    });
    const client = await connect("chatty", token);
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("403 missing_scope");
    await client.close();
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      QUERY_KEY: DurableObjectNamespace;
    }
  }
}
