import { env, SELF } from "cloudflare:test";
import { mintSessionToken, type TokenScope } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { createClient } from "./support/official-client.js";
import { BASE, session } from "./support/session.ts";

/**
 * The official client's `connect()` against the real session WebSocket: its commands pass
 * the same door as HTTP (scopes and hooks), and its refusals arrive as typed errors.
 */

/** A WebSocket constructor over `SELF.fetch` (workerd tests cannot dial a socket), carrying `token`. */
function socketClass(token: string): typeof WebSocket {
  class SelfSocket extends EventTarget {
    static readonly OPEN = 1;
    readonly OPEN = 1;
    readyState = 0;
    binaryType: "arraybuffer" | "blob" = "arraybuffer";
    onopen: ((event: Event) => void) | null = null;
    onmessage: ((event: MessageEvent) => void) | null = null;
    onclose: ((event: CloseEvent) => void) | null = null;
    onerror: ((event: Event) => void) | null = null;
    #ws: WebSocket | undefined;

    constructor(url: string) {
      super();
      const http = url.replace(/^ws/, "http");
      void SELF.fetch(http, {
        headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
      }).then((response) => {
        const ws = response.webSocket;
        if (!ws) {
          this.readyState = 3;
          this.onerror?.(new Event("error"));
          return;
        }
        ws.accept();
        this.#ws = ws;
        ws.addEventListener("message", (event) =>
          this.onmessage?.(new MessageEvent("message", { data: event.data })),
        );
        ws.addEventListener("close", (event) => {
          this.readyState = 3;
          this.onclose?.(event);
        });
        this.readyState = 1;
        this.onopen?.(new Event("open"));
      });
    }

    send(data: string) {
      this.#ws?.send(data);
    }

    close(code?: number, reason?: string) {
      this.#ws?.close(code, reason);
    }
  }
  return SelfSocket as unknown as typeof WebSocket;
}

async function connect(agent: string, sessionId: string, scope: TokenScope[]) {
  const token = await mintSessionToken(env.AUTH_SECRET, { agent, session: sessionId, scope });
  const client = createClient({ baseUrl: BASE, WebSocket: socketClass(token) });
  return client.session(agent, sessionId).connect();
}

describe("the official client over the session WebSocket", () => {
  it("starts a run with a write token and reads it to the end", async () => {
    const s = session("chatty");
    const live = await connect("chatty", s.session, ["read", "write"]);
    const started = await live.start("hi");
    expect(started.runId).toMatch(/^run_/);
    const kinds: string[] = [];
    for await (const event of live) {
      kinds.push(event.kind);
      if (event.kind === "run.completed" || event.kind === "run.failed") break;
    }
    expect(kinds.at(-1)).toBe("run.completed");
    live.close();
  });

  it("a read-only token's start is refused with missing_scope, and nothing starts", async () => {
    const s = session("chatty");
    const live = await connect("chatty", s.session, ["read"]);
    await expect(live.start("hi")).rejects.toMatchObject({ code: "missing_scope", status: 403 });
    await expect(live.start("forbidden words")).rejects.toMatchObject({ status: 403 });
    live.close();
    expect(await s.events()).toEqual([]);
  });

  it("a message the beforeStart hook refuses is refused over the client's socket too", async () => {
    const s = session("chatty");
    const live = await connect("chatty", s.session, ["read", "write"]);
    await expect(live.start("forbidden words")).rejects.toMatchObject({
      code: "blocked_by_hook",
      status: 422,
    });
    live.close();
    expect(await s.events()).toEqual([]);
  });
});
