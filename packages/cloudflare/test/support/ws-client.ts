import type { LedgerEvent } from "@durable-agents/core";

export type WireEvent = LedgerEvent & { offset: string };

/** A test-side session socket: records every frame, waits for the ones a test expects. */
export interface TestSocket {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[];
  readonly raw: string[];
  events(): WireEvent[];
  send(frame: unknown): void;
  /** Waits until `predicate` holds on the frames so far. */
  until(
    predicate: (frames: Record<string, unknown>[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens `GET .../ws?query` through `fetch` (the session handle's, which carries its token). */
export async function openSocket(
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
  url: string,
): Promise<TestSocket> {
  const response = await fetch(url, { headers: { upgrade: "websocket" } });
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket from ${url}: ${response.status} ${await response.text()}`);
  ws.accept();
  const frames: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let wake = () => {};
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      wake();
    });
  });
  ws.addEventListener("message", (event) => {
    const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
    raw.push(text);
    frames.push(JSON.parse(text) as Record<string, unknown>);
    wake();
  });
  return {
    ws,
    frames,
    raw,
    closed,
    events: () => frames.flatMap((f) => (f.type === "events" ? (f.events as WireEvent[]) : [])),
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(frames)) {
        if (Date.now() > deadline)
          throw new Error(`timed out; frames so far: ${JSON.stringify(frames).slice(0, 2000)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}
