/**
 * Tier 3: the quickstart's /mcp/assistant under a real `wrangler dev`, through the MCP
 * TypeScript SDK's client and its streamable HTTP transport (Node's fetch, over TCP).
 */
import { rmSync } from "node:fs";
import { mintSessionToken } from "@durable-agents/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { startQuickstart, tempState } from "./e2e-support.ts";

let dev: WranglerDev | undefined;
let state: string | undefined;
afterEach(async () => {
  await dev?.stop();
  dev = undefined;
  if (state) rmSync(state, { recursive: true, force: true });
});

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    }),
  );
  return client;
}

describe("the quickstart serves /mcp/assistant", () => {
  it("lists the tool, calls it with progress, gets the answer; without a token connect fails with a 401", async () => {
    const secret = "e2e-mcp-secret-0123456789abcdef0123456789";
    state = tempState("e2e-mcp");
    dev = await startQuickstart(state, { AUTH_SECRET: secret });
    const url = `${dev.baseUrl}/mcp/assistant`;
    const token = await mintSessionToken(secret, { agent: "assistant", session: "mcp-e2e" });

    const client = await connect(url, token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["assistant"]);
    const progress: string[] = [];
    const result = await client.callTool(
      { name: "assistant", arguments: { message: "What is 2+3?", session: "mcp-e2e" } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? "") },
    );
    expect(result.isError).toBeFalsy();
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    expect(text).toContain("5");
    expect(progress.length).toBeGreaterThan(0);
    // The answer is the run's whole text, as the progress showed it (every step's).
    expect(progress.join("")).toBe(text);
    await client.close();

    // Without a token the door refuses before the MCP transport: connect fails with a 401.
    const anonymous = await connect(url).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(anonymous).toBeInstanceOf(StreamableHTTPError);
    expect((anonymous as StreamableHTTPError).code).toBe(401);
    const raw = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });
});
