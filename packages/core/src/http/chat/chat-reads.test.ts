/**
 * What the chat surface reads for an active run with a long backlog, counted in ledger rows
 * (test/counting-sql.ts), not timed: `GET .../chat-history` reads none of the active run's
 * events (only its user messages), and its resume stream (`GET /chat/:agent/:id/stream`,
 * `GET .../ui-stream`) reads and holds its backlog a page at a time (`live.maxEvents` events
 * and the write's byte budget), its first bytes out before the rest is read, every chunk once,
 * what a rewind inside the backlog took back left out across the pages, and a reader cut at a
 * page's end resumes by its `Last-Event-ID` with exactly the rest.
 */

import { describe, expect, it } from "vitest";
import { CountingSqlPort } from "../../../test/counting-sql.ts";
import { httpContext } from "../../../test/fixtures.ts";
import { crunch, workflows } from "../../../test/rewind-fixture.ts";
import { defineAgent, scriptedModel } from "../../index.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { ManualClock } from "../../testing/manual-clock.ts";
import { createTestSession, type TestSession } from "../../testing/test-session.ts";
import type { UiChunk } from "../../wire/ui-stream/ui-stream-projector.ts";
import { handleSessionRequest } from "../session-handler.ts";
import type { ChatHistoryPage } from "./chat-history.ts";

/** 300 ledger deltas each (16 characters a delta, below). */
const FIRST = "a".repeat(16 * 300);
const AGAIN = "b".repeat(16 * 300);

/** Says a long text, then delegates to a Workflow (never run here): the run waits, active. */
const writer = defineAgent({
  name: "writer",
  system: "",
  tools: [crunch],
  model: scriptedModel({
    rules: [
      ({ userText }) =>
        userText === "again"
          ? { text: AGAIN, toolCalls: [{ name: "crunch", args: { n: 2 } }] }
          : { text: FIRST, toolCalls: [{ name: "crunch", args: { n: 1 } }] },
    ],
  }),
});

/** A page of the resume stream here: at most this many events per read. */
const PAGE = 50;

/** One session request; `path`: the action, with its query if any. */
function request(t: TestSession, path: string, method = "GET", body?: unknown) {
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0, maxEvents: PAGE } });
  const init: RequestInit = { method, headers: { "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const action = path.split("?")[0] ?? path;
  return handleSessionRequest(new Request(`http://x/agents/writer/s1/${path}`, init), action, ctx);
}

/** The writer on a counting SqlPort, its text coalesced into deltas of at most 16 chars. */
function coalescedSession(): { t: TestSession; sql: CountingSqlPort } {
  const sql = new CountingSqlPort();
  const t = createTestSession(
    writer,
    { workflows, coalesce: { maxDelayMs: Number.MAX_SAFE_INTEGER, maxChars: 16 } },
    { sql, clock: new ManualClock() },
  );
  return { t, sql };
}

/** A run that said FIRST, was taken back to its start with "again", said AGAIN, and waits. */
async function rewoundLongRun(): Promise<{
  t: TestSession;
  sql: CountingSqlPort;
  runId: string;
  /** The run's events in the ledger. */
  events: number;
}> {
  const { t, sql } = coalescedSession();
  await t.runtime.start({ message: "go" });
  await t.drain();
  const started = t.runtime.ledger.read(0).find((e) => e.kind === "run.started");
  if (!started?.runId) throw new Error("no run started");
  const rewind = await request(t, "resume", "POST", {
    mode: "from_checkpoint",
    checkpoint: String(started.seq),
    message: "again",
  });
  expect(rewind.status).toBe(202);
  await t.drain();
  expect(t.runtime.status()).toMatchObject({ status: "waiting", runId: started.runId });
  const events = t.runtime.ledger.read(0, 10_000).filter((e) => e.runId === started.runId);
  sql.reset();
  return { t, sql, runId: started.runId, events: events.length };
}

function requestWith(t: TestSession, path: string, lastEventId: string) {
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0, maxEvents: PAGE } });
  return handleSessionRequest(
    new Request(`http://x/agents/writer/s1/${path}`, { headers: { "last-event-id": lastEventId } }),
    path,
    ctx,
  );
}

/** The SSE frames of `text`: each `id` and parsed `data` (not `[DONE]`). */
function frames(text: string): { id: string; chunk: UiChunk }[] {
  return text
    .split("\n\n")
    .filter((block) => block.includes("data: {"))
    .map((block) => {
      const lines = block.split("\n");
      const id = lines.find((l) => l.startsWith("id: "))?.slice(4) ?? "";
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6) ?? "";
      return { id, chunk: JSON.parse(data) as UiChunk };
    });
}

/** The SSE text of `response` through the frame of the run's `tool-input-available`. */
async function throughToolInput(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  const end = () => {
    const at = text.indexOf('"tool-input-available"');
    return at < 0 ? -1 : text.indexOf("\n\n", at);
  };
  for (let i = 0; i < 10_000 && end() < 0; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.slice(0, end() + 2);
}

const texts = (chunks: readonly UiChunk[]) =>
  chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta as string] : [])).join("");

describe("GET .../chat-history of a session whose active run is long", () => {
  it("reads none of the active run's events: its turn is its user messages", async () => {
    const { t, sql, runId, events } = await rewoundLongRun();
    expect(events).toBeGreaterThan(600);
    const response = await request(t, "chat-history");
    expect(response.status).toBe(200);
    const page = (await response.json()) as ChatHistoryPage;
    expect(page.activeRunId).toBe(runId);
    expect(page.turns).toEqual([
      {
        runId,
        messages: [
          { id: expect.any(String), role: "user", parts: [{ type: "text", text: "go" }] },
          { id: expect.any(String), role: "user", parts: [{ type: "text", text: "again" }] },
        ],
        chunks: null,
      },
    ]);
    expect(sql.eventRows(runId)).toBe(0);
    // The user messages are found by run in the messages projection's index, not by a scan.
    const read = sql.statements.find((q) => /FROM messages WHERE run_id = \? AND role/.test(q));
    const plan = sql
      .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${read}`, runId)
      .map((p) => p.detail);
    expect(plan).toContain("SEARCH messages USING INDEX messages_user_by_run (run_id=?)");
    expect(plan.some((d) => /^SCAN messages\b/.test(d))).toBe(false);
  });
});

describe("the resume stream of an active run with a long backlog", () => {
  it("reads a page at a time, first bytes before the rest; every chunk once, the rewound part left out", async () => {
    const { t, sql, runId, events } = await rewoundLongRun();
    expect(events).toBeGreaterThan(8 * PAGE);
    for (const action of ["chat", "ui-stream"]) {
      sql.reset();
      const response = await request(t, action);
      expect(response.status).toBe(200);
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      const decoder = new TextDecoder();
      const first = await reader.read();
      // Before the reader took the first write, at most that page and the next were read.
      expect(sql.eventRows(runId)).toBeLessThanOrEqual(2 * PAGE + 1);
      let text = decoder.decode(first.value, { stream: true });
      for (let i = 0; i < 10_000 && !text.includes('"tool-input-available"'); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
      // No read held more than a page of events.
      expect(sql.largestEventRead()).toBeLessThanOrEqual(PAGE);
      const sent = frames(text);
      const ids = sent.map((f) => f.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
      const chunks = sent.map((f) => f.chunk);
      expect(texts(chunks)).toBe(AGAIN);
      expect(chunks.map((c) => c.type)).toEqual([
        "start",
        "start-step",
        "text-start",
        ...chunks.filter((c) => c.type === "text-delta").map(() => "text-delta"),
        "text-end",
        "tool-input-available",
      ]);
      expect(chunks[0]).toEqual({ type: "start", messageId: runId });
    }
  });

  it("sends the bytes `GET ui-stream?offset=` sends from the run's start, for a run no rewind touched", async () => {
    const { t } = coalescedSession();
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");
    const started = t.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    const offset = String((started?.seq ?? 1) - 1).padStart(16, "0");
    const resumed = await throughToolInput(await request(t, "chat"));
    const fromOffset = await throughToolInput(await request(t, `ui-stream?offset=${offset}`));
    expect(frames(resumed).length).toBeGreaterThan(4 * PAGE);
    expect(resumed).toBe(fromOffset);
  });

  it("a reader cut at any write's end and resumed by its Last-Event-ID (as EventSource does) gets exactly the rest", async () => {
    const { t } = await rewoundLongRun();
    const response = await request(t, "ui-stream");
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    const writes: string[] = [];
    let text = "";
    for (let i = 0; i < 10_000 && !text.includes('"tool-input-available"'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, { stream: true });
      writes.push(piece);
      text += piece;
    }
    await reader.cancel();
    const whole = frames(text);
    let acc = "";
    for (const w of writes) {
      acc += w;
      const read = frames(acc);
      const last = read.at(-1)?.id;
      if (!last || read.length === whole.length) continue;
      const rest = frames(await throughToolInput(await requestWith(t, "ui-stream", last)));
      expect([...read, ...rest]).toEqual(whole);
    }
    expect(writes.length).toBeGreaterThan(4);
  });
});
