import { env, SELF } from "cloudflare:test";
import { mintSessionToken } from "@durable-agents/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { describe, expect, it } from "vitest";
import { BASE } from "./support/session.ts";

/** The MCP TypeScript SDK's own client against `/mcp/:agent` (through the Worker entry). */
async function connect(agent: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp/${agent}`), {
    fetch: (input, init) => SELF.fetch(input as string, init),
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client(
    { name: "test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
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

  it("without a token the call is refused by the session routes' auth, and starts nothing", async () => {
    const session = `mcp_${Date.now()}_anon`;
    const client = await connect("chatty");
    const result = await client.callTool({ name: "chatty", arguments: { message: "hi", session } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("401 unauthorized");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const status = await SELF.fetch(`${BASE}/agents/chatty/${session}/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await status.json()) as { runId: string | null }).runId).toBeNull();
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
