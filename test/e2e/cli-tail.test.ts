/**
 * `durable-agents tail` on a closed session ends by itself, on every live transport, even
 * when the server is slow to drop the TCP connection after its WebSocket close frame
 * (`wrangler dev` takes about 10 s; Node's WebSocket fires `close` only then). A proxy in
 * front of the quickstart passes every byte on but never passes on the server's end of the
 * connection, so a CLI that waited for the socket's `close` event would never exit.
 */
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import {
  isTerminal,
  runCli,
  startQuickstart,
  startRun,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

let dev: WranglerDev | undefined;
let proxy: HoldingProxy | undefined;
const state = tempState("e2e-cli-tail");

interface HoldingProxy {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` that forwards both ways and passes the client's end on, but keeps
 * the client's connection open after the server ends its side, until `close()`.
 */
function holdingProxy(target: URL): Promise<HoldingProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("end", () => upstream.end());
    // The upstream's end is not passed on: the client's connection stays open.
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      done({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((closed) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => closed());
          }),
      });
    });
  });
}

beforeAll(async () => {
  dev = await startQuickstart(state);
  proxy = await holdingProxy(new URL(dev.baseUrl));
});

afterAll(async () => {
  await proxy?.close();
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe("tail on a closed session", () => {
  it("exits 0 after the ledger's end on ws and sse, though the server keeps the connection open", async () => {
    if (dev === undefined || proxy === undefined) throw new Error("the quickstart did not start");
    await startRun(dev.baseUrl, "tail-closed", "What is 2+3?");
    await waitForLedger(dev.baseUrl, "tail-closed", (events) => events.some(isTerminal));
    const close = await runCli(["close", "assistant/tail-closed", "--url", dev.baseUrl]);
    expect(close.code, close.stderr).toBe(0);

    for (const transport of ["ws", "sse"]) {
      // A CLI that waited for the server to drop the connection would be killed at 30 s.
      const tail = await runCli(
        ["tail", "assistant/tail-closed", "--transport", transport, "--url", proxy.url],
        30_000,
      );
      expect(tail.code, `${transport}: ${tail.stderr}`).toBe(0);
      expect(tail.stdout, transport).toContain("run.completed");
      expect(tail.stdout, transport).toMatch(/session\.closed.*\n$/);
      expect(tail.stderr, transport).toBe("stream closed\n");
    }
  });
});
