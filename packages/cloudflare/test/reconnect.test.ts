// The client library's own reducer (by path: its barrel needs DOM types this tsconfig does not load).

import { verifyEvents } from "@ag-ui/client";
import type { LedgerEvent } from "@durable-agents/core";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { rebuildMessage } from "../../../test/support/ui-message.ts";
import { EMPTY_VIEW, reduceView } from "../../client/src/session-view.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";
import { openSocket } from "./support/ws-client.ts";

type WireEvent = LedgerEvent & { offset: string };

/** The messages a client folds from the events it got (the client library's reducer). */
function messagesOf(events: readonly WireEvent[]): unknown {
  let view = EMPTY_VIEW;
  for (const event of events) view = reduceView(view, event as never);
  return view.messages;
}

/** Reads `GET .../events?live=sse` from `offset`, up to `count` events (or until up to date). */
async function sseEvents(s: SessionHandle, offset: string, count: number): Promise<WireEvent[]> {
  const response = await s.fetch(s.url("events", `offset=${offset}&live=sse`));
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: WireEvent[] = [];
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(l.startsWith("data: ") ? 6 : 5))
          .join("\n");
        if (block.includes("event: data")) {
          for (const event of JSON.parse(data) as WireEvent[]) {
            out.push(event);
            if (out.length === count) return out;
          }
        } else if (block.includes("event: control") && JSON.parse(data).upToDate) return out;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function wsEvents(s: SessionHandle, offset: string, count: number): Promise<WireEvent[]> {
  const socket = await openSocket(s.fetch, s.url("ws", `offset=${offset}`));
  await socket.until(() => socket.events().length >= count);
  socket.ws.close(1000);
  return socket.events().slice(0, count);
}

/**
 * G4: a client that drops after any event (or UI chunk) of a scripted run with
 * tools and reconnects from where it was gets every event exactly once, in order,
 * and rebuilds the same messages as a client that never dropped.
 */
describe("disconnect at every offset and reconnect", () => {
  let s: SessionHandle;
  let all: WireEvent[];

  beforeAll(async () => {
    s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    all = await s.events();
  });

  for (const [transport, read] of [
    ["SSE", sseEvents],
    ["WebSocket", wsEvents],
  ] as const) {
    it(`over ${transport}`, async () => {
      const golden = messagesOf(all);
      for (let cut = 0; cut <= all.length; cut++) {
        const first = cut === 0 ? [] : await read(s, "-1", cut);
        const from = first.at(-1)?.offset ?? "-1";
        const rest = cut === all.length ? [] : await read(s, from, all.length - cut);
        const got = [...first, ...rest];
        expect(got.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
        expect(got).toEqual(all);
        expect(messagesOf(got)).toEqual(golden);
      }
    });
  }

  it("over the UI message stream, at every chunk", async () => {
    const whole = await readSse(s.fetch, s.url("ui-stream", "offset=-1"), () => false);
    const golden = await rebuildMessage(whole.map((f) => f.data));
    expect(golden?.parts.length).toBeGreaterThan(5);
    for (let cut = 1; cut < whole.length; cut++) {
      let n = 0;
      const head = await readSse(s.fetch, s.url("ui-stream", "offset=-1"), () => ++n >= cut);
      const rest = await readSse(s.fetch, s.url("ui-stream"), () => false, {
        "last-event-id": head.at(-1)!.id,
      });
      const got = [...head, ...rest];
      expect(got.map((f) => f.id)).toEqual(whole.map((f) => f.id));
      expect(await rebuildMessage(got.map((f) => f.data))).toEqual(golden);
    }
  });

  it("over AG-UI, at every chunk (Last-Event-ID <offset>:<k>)", async () => {
    const finished = (f: { data: Record<string, unknown> }) => f.data.type === "RUN_FINISHED";
    const whole = await readSse(s.fetch, s.url("agui", "offset=-1"), finished);
    // Events that map to several AG-UI events (run.started: RUN_STARTED and its snapshots) are
    // where a cut falls between chunks of one ledger event.
    expect(new Set(whole.map((f) => f.id.split(":")[0])).size).toBeLessThan(whole.length);
    for (let cut = 1; cut < whole.length; cut++) {
      let n = 0;
      const head = await readSse(s.fetch, s.url("agui", "offset=-1"), () => ++n >= cut);
      const rest = await readSse(s.fetch, s.url("agui", "offset=-1"), finished, {
        "last-event-id": head.at(-1)!.id,
      });
      const got = [...head, ...rest];
      expect(got.map((f) => f.id)).toEqual(whole.map((f) => f.id));
      expect(got).toEqual(whole);
      // The official client's verifier accepts the pieced-together stream.
      await lastValueFrom(
        from(got.map((f) => f.data) as never[]).pipe(verifyEvents(false), toArray()),
      );
    }
  });
});

describe("disconnect while the run is live and reconnect", () => {
  afterEach(() => probe.reset());

  it("WebSocket and UI stream clients that drop mid-run miss nothing and repeat nothing", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const ws1 = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    const ui1 = readSse(
      s.fetch,
      s.url("ui-stream"),
      (f) => f.data.type === "tool-input-available",
      {},
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "go" }] }],
        }),
      },
    );
    await ws1.until(() => ws1.events().some((e) => e.kind === "tool.started"));
    ws1.ws.close(1000);
    const head = ws1.events();
    const uiHead = await ui1;
    // Both clients are gone; the run waits on the tool, then goes on without them.
    const ws2 = await openSocket(s.fetch, s.url("ws", `offset=${head.at(-1)!.offset}`));
    const ui2 = readSse(s.fetch, s.url("ui-stream"), () => false, {
      "last-event-id": uiHead.at(-1)!.id,
    });
    probe.open("slow_echo");
    await ws2.until(() => ws2.events().some(isTerminal));
    ws2.ws.close(1000);
    const all = await s.events();
    expect([...head, ...ws2.events()]).toEqual(all);
    expect(messagesOf([...head, ...ws2.events()])).toEqual(messagesOf(all));
    const ui = [...uiHead, ...(await ui2)].map((f) => f.data);
    const golden = await readSse(s.fetch, s.url("ui-stream", "offset=-1"), () => false);
    expect(ui).toEqual(golden.map((f) => f.data));
    expect(await rebuildMessage(ui)).toEqual(await rebuildMessage(golden.map((f) => f.data)));
  });
});
