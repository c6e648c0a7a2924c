import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import * as z from "zod";
import { IDEMPOTENCY_META_KEY } from "../src/mcp/index.ts";

/** What the lab server saw: each tools/call, with the idempotency key its `_meta` carried. */
export interface LabCall {
  readonly tool: string;
  readonly args: unknown;
  readonly key: unknown;
}

export interface LabServer {
  readonly url: string;
  readonly calls: LabCall[];
  /** Holds `slow` until released (a call in flight, for crash and outage tests). */
  holdSlow(): { release(): void };
  /** The tools it offers besides the lab's three (to change the server between runs). */
  addTool(name: string): void;
  /** Stops listening and cuts open connections: a server that went down. */
  stop(): Promise<void>;
}

/**
 * A real MCP server (the MCP TypeScript SDK's McpServer over its streamable HTTP
 * transport, stateless) on 127.0.0.1 and a free port, with a pure tool (`add`), a
 * slow one (`slow`), a failing one (`fail`) and one that answers with an image (`chart`).
 */
export async function startLabServer(): Promise<LabServer> {
  const calls: LabCall[] = [];
  const extra: string[] = [];
  let gate: Promise<void> | undefined;
  const build = () => {
    const server = new McpServer({ name: "lab", version: "1.0.0" });
    const seen = (tool: string, args: unknown, meta: Record<string, unknown> | undefined) =>
      calls.push({ tool, args, key: meta?.[IDEMPOTENCY_META_KEY] });
    server.registerTool(
      "add",
      { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } },
      async (args, extra) => {
        seen("add", args, extra._meta);
        return { content: [{ type: "text", text: String(args.a + args.b) }] };
      },
    );
    server.registerTool(
      "slow",
      { description: "Answers after a while", inputSchema: { label: z.string() } },
      async (args, extra) => {
        seen("slow", args, extra._meta);
        await (gate ?? new Promise((r) => setTimeout(r, 20)));
        return { content: [{ type: "text", text: `slow ${args.label} done` }] };
      },
    );
    server.registerTool(
      "fail",
      { description: "Always fails", inputSchema: {} },
      async (_args, extra) => {
        seen("fail", {}, extra._meta);
        return { isError: true, content: [{ type: "text", text: "the warehouse is closed" }] };
      },
    );
    server.registerTool(
      "chart",
      { description: "Draws a chart", inputSchema: {} },
      async (_args, extra) => {
        seen("chart", {}, extra._meta);
        return {
          content: [
            { type: "text", text: "here is the chart" },
            { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
          ],
        };
      },
    );
    for (const name of extra)
      server.registerTool(name, { description: `Extra ${name}`, inputSchema: {} }, async () => ({
        content: [{ type: "text", text: name }],
      }));
    return server;
  };
  const http: Server = createServer(async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const body = JSON.parse(await readBody(req));
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    holdSlow() {
      let release = () => {};
      gate = new Promise<void>((r) => {
        release = r;
      });
      return { release: () => release() };
    },
    addTool: (name) => {
      extra.push(name);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      data += chunk;
    });
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
