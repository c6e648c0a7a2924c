/**
 * A `WebSocket` constructor for `createClient({ WebSocket })` inside workerd
 * tests: it opens the session socket through a fetch (the test session's,
 * which carries its token) and exposes the browser API the client uses.
 * `cut` can end a connection after some events, cleanly (close 1000) or
 * abruptly (1006, no close frame), the ways a network does. `holdCloses` keeps
 * the server's closes from the client until `releaseCloses()`, as a proxy that
 * holds up the closing handshake does (wrangler dev with Node's WebSocket): the
 * socket stays open to the client meanwhile, and what it sends is dropped.
 */
import type { WebSocketConstructor } from "@durable-agents/client";

export interface WsCut {
  /** Close after this many events have arrived on the connection. */
  readonly events: number;
  readonly cut: "clean" | "abrupt";
}

export interface SelfWebSocket {
  /** The constructor to pass to `createClient`. */
  readonly WebSocket: WebSocketConstructor;
  /** Connections asked for so far. */
  readonly connections: () => number;
  /** Connections that opened so far. */
  readonly opened: () => number;
  /** Text frames the client sent, in order, over every connection. */
  readonly sent: string[];
  /** Delivers the server's closes held so far (`holdCloses`), and those after at once. */
  readonly releaseCloses: () => void;
}

type Listener = ((event: never) => void) | null;

export function selfWebSocket(
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
  plan?: (connection: number) => WsCut | undefined,
  options: { readonly holdCloses?: boolean } = {},
): SelfWebSocket {
  let connections = 0;
  let opened = 0;
  const sent: string[] = [];
  let held: (() => void)[] | undefined = options.holdCloses ? [] : undefined;

  class ShimSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSING = 2;
    readonly CLOSED = 3;
    readyState = 0;
    binaryType = "arraybuffer";
    onopen: Listener = null;
    onmessage: Listener = null;
    onclose: Listener = null;
    onerror: Listener = null;
    #ws: WebSocket | undefined;
    #events = 0;
    /** The server closed the socket (its close may be held from the client). */
    #serverClosed = false;

    constructor(url: string) {
      const cut = plan?.(connections);
      connections++;
      fetch(url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } }).then(
        (response) => {
          const ws = response.webSocket;
          if (!ws) return this.#fail(`HTTP ${response.status}`);
          ws.accept();
          this.#ws = ws;
          if (this.readyState === 3) return ws.close(1000);
          ws.addEventListener("message", (event) => {
            if (this.readyState !== 1) return;
            this.#emit("onmessage", { data: event.data });
            if (cut === undefined || typeof event.data !== "string") return;
            const frame = JSON.parse(event.data) as { type?: string; events?: unknown[] };
            if (frame.type === "events") this.#events += frame.events?.length ?? 0;
            if (this.#events >= cut.events && this.#events > 0) this.#drop(cut.cut);
          });
          ws.addEventListener("close", (event) => {
            this.#serverClosed = true;
            const deliver = () => this.#closed(event.code, event.reason);
            if (held) held.push(deliver);
            else deliver();
          });
          this.readyState = 1;
          opened++;
          this.#emit("onopen", {});
        },
        (error: unknown) => this.#fail(String(error)),
      );
    }

    send(data: string): void {
      if (this.readyState !== 1) throw new Error("send on a socket that is not open");
      sent.push(data);
      // A socket in its closing handshake drops what is sent, as a browser's does.
      if (!this.#serverClosed) this.#ws?.send(data);
    }

    close(code = 1000, reason = ""): void {
      if (this.readyState === 3) return;
      try {
        this.#ws?.close(code, reason);
      } catch {
        // already closing
      }
      this.#closed(code, reason);
    }

    #drop(kind: WsCut["cut"]): void {
      try {
        this.#ws?.close(kind === "clean" ? 1000 : 4001, "cut by the test");
      } catch {
        // already closing
      }
      this.#closed(kind === "clean" ? 1000 : 1006, "");
    }

    #fail(reason: string): void {
      if (this.readyState === 3) return;
      this.#emit("onerror", {});
      this.#closed(1006, reason);
    }

    #closed(code: number, reason: string): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.#emit("onclose", { code, reason });
    }

    #emit(name: "onopen" | "onmessage" | "onclose" | "onerror", event: object): void {
      (this[name] as ((event: object) => void) | null)?.(event);
    }
  }

  return {
    WebSocket: ShimSocket,
    connections: () => connections,
    opened: () => opened,
    sent,
    releaseCloses: () => {
      const due = held ?? [];
      held = undefined;
      for (const deliver of due) deliver();
    },
  };
}
