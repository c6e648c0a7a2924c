/**
 * `tail --transport ws` on a Node without a global WebSocket (Node 20, where the installed CLI
 * runs): the CLI says what to do in its own terms (Node 22, or --transport sse), exits 2 and
 * sends nothing, instead of the library's advice to pass createClient({ WebSocket }).
 * The real bin, spawned with the project's Node 22 and `--no-experimental-websocket`, which
 * removes the global WebSocket as Node 20 lacks it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { RealServer } from "./real-server.ts";
import { start } from "./support.ts";

const BIN = fileURLToPath(new URL("../bin/durable-agents.mjs", import.meta.url));
const NODE = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url));

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function cliWithoutWebSocket(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(NODE, ["--no-experimental-websocket", BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

describe("durable-agents tail --transport ws without a global WebSocket", () => {
  it("says it needs Node 22 and to use --transport sse, exits 2, and sends no request", async () => {
    server = await start();
    const result = await cliWithoutWebSocket([
      "tail",
      "assistant/s1",
      "--transport",
      "ws",
      "--url",
      server.url,
    ]);
    expect(result.stderr).toContain(
      "error: --transport ws needs Node 22 or later, which has a WebSocket",
    );
    expect(result.stderr).toContain("use --transport sse (the default)");
    expect(result.stderr).not.toContain("createClient");
    expect(result.code).toBe(2);
    expect(server.requests).toEqual([]);
  });

  it("the other transports still read the ledger there (catch-up)", async () => {
    server = await start();
    const result = await cliWithoutWebSocket([
      "tail",
      "assistant/s1",
      "--transport",
      "catch-up",
      "--url",
      server.url,
    ]);
    expect(result.code).toBe(0);
  });
});
