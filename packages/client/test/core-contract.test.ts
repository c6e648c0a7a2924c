/**
 * The client against the real core session handler, in-process: the same
 * Request → Response code the Durable Object serves, on in-process SQLite.
 * SSE cut at every byte position in turn (a transport fault no HTTP server shows on demand).
 */
import {
  DEFAULT_LIVE_READ,
  defineAgent,
  defineTool,
  errorResponse,
  handleSessionRequest,
  scriptedModel,
  TRUSTED_CALLER,
} from "@durable-agents/core";
import { createTestSession, type TestSession } from "@durable-agents/core/testing";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { createClient, followRun, type LedgerEvent } from "../src/index.ts";

const calculator = defineTool({
  name: "calculator",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  execute: ({ a, b }) => a + b,
});

const agent = defineAgent({
  name: "assistant",
  system: "You add numbers.",
  tools: [calculator],
  model: scriptedModel({
    chunkSize: 3,
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { text: "Let me add.", toolCalls: [{ name: "calculator", args: { a: 2, b: 3 } }] }
          : { text: `The answer is ${toolResults[0]?.output}.` },
    ],
  }),
});

/**
 * A fetch that serves the session handler; `cut(n)` may break the n-th SSE body after some bytes.
 * `maxEvents`: events per read (per SSE `data` event), default the server's; `end`: how a cut
 * connection ends (truncate).
 */
function serve(
  s: TestSession,
  cut?: (connection: number) => number | undefined,
  maxEvents = DEFAULT_LIVE_READ.maxEvents,
  end: "error" | "close" = "error",
): typeof fetch {
  let connections = 0;
  return async (input, init) => {
    const request = new Request(input, init);
    const action = new URL(request.url).pathname.split("/")[4] ?? "";
    let response: Response;
    try {
      response = await handleSessionRequest(request, action, {
        runtime: s.runtime,
        sql: s.sql,
        clock: s.clock,
        // The session's manual clock does not move by itself: deliver each append, no window.
        live: { ...DEFAULT_LIVE_READ, longPollMs: 10, windowMs: 0, maxEvents },
        caller: TRUSTED_CALLER,
      });
    } catch (error) {
      return errorResponse(error, (cause) => console.error(cause));
    }
    const limit = response.headers.get("content-type")?.includes("event-stream")
      ? cut?.(connections++)
      : undefined;
    if (limit === undefined || response.body === null) return response;
    return new Response(truncate(response.body, limit, end), { headers: response.headers });
  };
}

/**
 * The first `limit` bytes of `body`, then the connection ends: with a network error
 * ("terminated"), or closed cleanly (`close`), as a proxy may. A chunk cut by the error is still
 * queued in the client's decoder when the error reaches it, so it is dropped: the client then
 * sees only whole server writes (an SSE `data` event and its `control` are one write). A clean
 * close delivers every byte before the cut, so a batch can arrive without its `control`.
 */
function truncate(
  body: ReadableStream<Uint8Array>,
  limit: number,
  end: "error" | "close",
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      const room = limit - sent;
      sent += value.length;
      if (value.length < room) return controller.enqueue(value);
      controller.enqueue(value.slice(0, room));
      if (end === "close") controller.close();
      else controller.error(new TypeError("terminated"));
      await reader.cancel();
    },
    cancel: () => reader.cancel(),
  });
}

async function collect(stream: AsyncIterable<LedgerEvent>): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) out.push(event);
  return out;
}

describe("client against the core session handler", () => {
  it("starts, follows a run over SSE to the end, and sees exactly the ledger", async () => {
    const s = createTestSession(agent);
    const session = createClient({ fetch: serve(s) }).session("assistant", "s1");
    const run = await session.start("What is 2+3?");
    expect(run).toMatchObject({
      status: "running",
      offset: "0000000000000000",
      session: "s1",
      agent: "assistant",
    });
    const following = collect(followRun(session, run));
    await s.drain();
    const events = await following;
    const ledger = await collect(session.events({ transport: "catch-up" }));
    expect(events).toEqual(ledger);
    expect(events.map((e) => e.seq)).toEqual(ledger.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "The answer is 5." },
    });
    expect(await session.status()).toMatchObject({
      status: "completed",
      runId: run.runId,
      offset: events.at(-1)?.offset,
    });
    const { messages } = await session.messages();
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("maps the real 409 and 400 errors", async () => {
    const s = createTestSession(agent);
    const session = createClient({ fetch: serve(s) }).session("assistant", "s1");
    const run = await session.start("hi");
    await expect(session.start("again")).rejects.toMatchObject({
      code: "run_active",
      status: 409,
      details: { runId: run.runId },
    });
    await expect(collect(session.events({ offset: "12" }))).rejects.toMatchObject({
      code: "invalid_offset",
      status: 400,
    });
  });

  it("delivers every event exactly once when SSE breaks at every byte position in turn", async () => {
    const s = createTestSession(agent);
    const reference = createClient({ fetch: serve(s) }).session("assistant", "s1");
    const run = await reference.start("What is 2+3?");
    await s.drain();
    const ledger = await collect(reference.events({ transport: "catch-up" }));
    // Connection n breaks after 20 + 7n bytes: cuts land inside lines, events and UTF-8 alike.
    const session = createClient({ fetch: serve(s, (n) => 20 + 7 * n) }).session("assistant", "s1");
    const events = await collect(
      followRun(session, {
        ...run,
        retry: { initialDelayMs: 0, maxDelayMs: 0, maxAttempts: Infinity },
      }),
    );
    expect(events).toEqual(ledger);
  });

  // A run read in one `data` event ends the read with it: a cut between a batch and its
  // `control` only matters when more batches follow, so here each batch holds 2 events; and the
  // connection closes at the cut, so the bytes before it (a batch without its control) arrive.
  it("delivers every event exactly once when SSE of 2-event batches is closed at every byte position", async () => {
    const s = createTestSession(agent);
    const reference = createClient({ fetch: serve(s, undefined, 2) }).session("assistant", "s1");
    const run = await reference.start("What is 2+3?");
    await s.drain();
    const ledger = await collect(reference.events({ transport: "catch-up" }));
    const session = createClient({ fetch: serve(s, (n) => 20 + 7 * n, 2, "close") }).session(
      "assistant",
      "s1",
    );
    const events = await collect(
      followRun(session, {
        ...run,
        retry: { initialDelayMs: 0, maxDelayMs: 0, maxAttempts: Infinity },
      }),
    );
    expect(events.map((e) => e.seq)).toEqual(ledger.map((e) => e.seq));
    expect(events).toEqual(ledger);
  });
});
