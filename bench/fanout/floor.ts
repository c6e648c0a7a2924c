/**
 * The send floor of the fan-out bench: a Durable Object with no durable-agents code that
 * produces events as fast as the scripted run does (one every `delayMs`, no storage) and, once
 * per window, sends every subscriber the same bytes: one `ws.send` of one string per
 * hibernatable WebSocket, one `enqueue` of one Uint8Array per SSE response (a JS
 * ReadableStream, as ours). The frames have the shapes ours have, so bench/fanout.ts reads
 * both with the same readers. What it costs is what any object pays to reach that many
 * connections from one isolate; ours can only add to it.
 *
 * Routes under `/floor/:name`: `GET /ws`, `GET /events?live=sse`, `POST /runs` (starts a run of
 * `events` events; query `events`, `delayMs`, `windowMs`), `GET /events?offset=-1` (the events
 * of the last run, as JSON).
 */
import { DurableObject } from "cloudflare:workers";

/** The shape and size of a ledger event on the wire (`GET .../events`), so frames weigh the same. */
interface FloorEvent {
  readonly seq: number;
  readonly runId: string;
  readonly kind: string;
  readonly data: { readonly step: number; readonly text: string };
  readonly ts: number;
  readonly offset: string;
}

const RUN_ID = "run_0123456789abcdef01234567";

const encoder = new TextEncoder();

export class FanoutFloor extends DurableObject {
  #events: FloorEvent[] = [];
  #sent = 0;
  readonly #sse = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.split("/").slice(3).join("/");
    if (path === "ws") {
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (path === "events" && url.searchParams.get("live") === "sse") {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          controller = c;
          c.enqueue(encoder.encode('event: control\ndata:{"streamNextOffset":"0"}\n\n'));
          this.#sse.add(c);
        },
        cancel: () => void this.#sse.delete(controller),
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    if (path === "events") return Response.json(this.#events);
    if (path === "runs" && request.method === "POST") {
      const count = Number(url.searchParams.get("events") ?? 512);
      const delayMs = Number(url.searchParams.get("delayMs") ?? 2);
      const windowMs = Number(url.searchParams.get("windowMs") ?? 20);
      this.#events = [];
      this.#sent = 0;
      void this.#run(count, delayMs, windowMs);
      return new Response(null, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  }

  async #run(count: number, delayMs: number, windowMs: number): Promise<void> {
    for (let seq = 1; seq <= count; seq++) {
      this.#events.push({
        seq,
        runId: RUN_ID,
        kind: seq === 1 ? "run.started" : seq === count ? "run.completed" : "model.delta",
        data: { step: 1, text: "lazy dog" },
        ts: Date.now(),
        offset: String(seq).padStart(16, "0"),
      });
      this.#timer ??= setTimeout(() => this.#flush(), windowMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** One window: the same frame, built once, to every connection. */
  #flush(): void {
    this.#timer = undefined;
    const events = this.#events.slice(this.#sent);
    this.#sent = this.#events.length;
    if (events.length === 0) return;
    const next = events.at(-1)?.offset;
    const frame = JSON.stringify({ type: "events", events, nextOffset: next, upToDate: true });
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
      } catch {}
    }
    const bytes = encoder.encode(
      `event: data\ndata:${JSON.stringify(events)}\n\nevent: control\nid: ${next}\ndata:{"streamNextOffset":"${next}","streamCursor":"1","upToDate":true}\n\n`,
    );
    for (const controller of this.#sse) {
      try {
        controller.enqueue(bytes);
      } catch {
        this.#sse.delete(controller);
      }
    }
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  }
}
