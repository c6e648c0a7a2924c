import { env, runInDurableObject, SELF } from "cloudflare:test";
import { EventSchemas } from "@ag-ui/core/schemas";
import { mintSessionToken } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  chatRequest,
  rebuildMessage,
  uiChunks,
  validateChunk,
} from "../../../test/support/ui-message.ts";
import { noteStatsVersion } from "./fixture/app-events.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";
import { until } from "./support/until.ts";

/**
 * App-defined events, projections and subscriptions on real DO SQLite: the fixture's
 * `note.added` event, its `note_stats` projection (whose reducer refuses "boom"), the
 * `logNotes` subscription and the `tally` trigger (fixture/app-events.ts).
 */
afterEach(() => {
  probe.reset();
  noteStatsVersion.current = 1;
});

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface Page {
  rows: { key: string; value: unknown }[];
  next: string | null;
}

const addNote = (s: SessionHandle, text: string) => s.post("notes", { text });
const appEvents = async (s: SessionHandle) =>
  (await s.events()).filter((e) => e.kind.startsWith("app."));

/** Rows of one of the session's own tables (none when it does not exist yet). */
function rows(s: SessionHandle, sql: string): Promise<Record<string, unknown>[]> {
  return runInDurableObject(s.stub(), (_instance, state) => {
    try {
      return state.storage.sql.exec(sql).toArray();
    } catch {
      return [];
    }
  });
}

async function restartObject(s: SessionHandle): Promise<void> {
  await runInDurableObject(s.stub(), (_instance, state) =>
    state.abort("injected crash: restart"),
  ).catch(() => undefined);
}

describe("app events and projections", () => {
  it("an endpoint's ctx.emit appends app.note.added, and the projection counts it in that append", async () => {
    const s = session("noter");
    expect(await (await addNote(s, "one")).json()).toEqual({ count: 1 });
    expect(await (await addNote(s, "two")).json()).toEqual({ count: 2 });
    const events = await appEvents(s);
    expect(events.map((e) => [e.seq, e.kind, e.runId, e.data])).toEqual([
      [1, "app.note.added", null, { text: "one" }],
      [2, "app.note.added", null, { text: "two" }],
    ]);
    const page = (await (await s.get("notes")).json()) as Page;
    expect(page.rows).toEqual([
      { key: "count", value: 2 },
      { key: "note:00000001", value: "one" },
      { key: "note:00000002", value: "two" },
    ]);
  });

  it("a reducer that throws rolls its event back: nothing stored, the projection unchanged", async () => {
    const s = session("noter");
    await addNote(s, "kept");
    const before = (await s.status()).offset;
    const refused = await addNote(s, "boom");
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({
      code: "projection_failed",
      details: { projection: "note_stats", kind: "app.note.added" },
    });
    expect((await s.status()).offset).toBe(before);
    expect((await appEvents(s)).map((e) => e.data)).toEqual([{ text: "kept" }]);
    // The next event takes the next seq: no gap where the refused one was.
    expect(await (await addNote(s, "after")).json()).toEqual({ count: 2 });
    expect((await appEvents(s)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it("a payload that fails the event's schema is a 400 invalid_app_event and appends nothing", async () => {
    const s = session("noter");
    const response = await addNote(s, "");
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_app_event");
    expect(await s.events()).toEqual([]);
  });

  it("a tool's emit commits with its tool.completed; a refused one fails the call and drops its writes", async () => {
    const s = session("noter");
    await s.post("runs", { input: { message: "note hello" } });
    await s.waitFor(isTerminal);
    const kinds = (await s.events()).map((e) => e.kind);
    const completed = kinds.indexOf("tool.completed");
    expect(kinds[completed + 1]).toBe("app.note.added");
    const [note] = await appEvents(s);
    expect(note?.runId).toBe((await s.status()).runId);
    expect(await rows(s, "SELECT text FROM tool_notes")).toEqual([{ text: "hello" }]);

    await s.post("runs", { input: { message: "note boom" } });
    const failed = await s.waitFor((e) => e.kind === "tool.failed");
    expect(failed.data).toMatchObject({ name: "add_note", error: { code: "projection_failed" } });
    await s.waitFor((e) => isTerminal(e) && e.seq > failed.seq);
    expect((await appEvents(s)).map((e) => e.data)).toEqual([{ text: "hello" }]);
    expect(await rows(s, "SELECT text FROM tool_notes")).toEqual([{ text: "hello" }]);

    await s.post("runs", { input: { message: "bad" } });
    const invalid = await s.waitFor((e) => e.kind === "tool.failed" && e.seq > failed.seq);
    expect(invalid.data).toMatchObject({ error: { code: "invalid_app_event" } });
  });

  it("a version bump is reported needs_rebuild, then rebuilt to the rows a fresh replay gives", async () => {
    const a = session("noter");
    for (const text of ["alpha", "be", "c"]) await addNote(a, text);
    noteStatsVersion.current = 2;
    await restartObject(a);
    const stale = (await (await a.get("projections")).json()) as { projections: unknown[] };
    expect(stale.projections).toEqual([
      { name: "note_stats", version: 2, storedVersion: 1, status: "needs_rebuild" },
    ]);
    const unread = await a.get("notes");
    expect(unread.status).toBe(409);
    expect(((await unread.json()) as ErrorBody).error.code).toBe("projection_needs_rebuild");

    // The rebuild is the projection.rebuild command: it needs the admin scope.
    expect((await a.post("projections", { rebuild: "note_stats" })).status).toBe(403);
    const admin = await mintSessionToken(env.AUTH_SECRET, {
      agent: a.agent,
      session: a.session,
      scope: ["read", "write", "admin"],
    });
    const rebuild = (body: unknown) =>
      SELF.fetch(a.url("projections"), {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await rebuild({ rebuild: "nope" })).status).toBe(404);
    const rebuilt = await rebuild({ rebuild: "note_stats" });
    expect(rebuilt.status).toBe(200);
    expect(await rebuilt.json()).toEqual({
      name: "note_stats",
      version: 2,
      storedVersion: 2,
      status: "current",
    });

    // A session that had version 2 from its first event: the same rows.
    const b = session("noter");
    for (const text of ["alpha", "be", "c"]) await addNote(b, text);
    const rowsA = ((await (await a.get("notes")).json()) as Page).rows;
    const rowsB = ((await (await b.get("notes")).json()) as Page).rows;
    expect(rowsA).toEqual(rowsB);
    expect(rowsA).toContainEqual({ key: "chars", value: 8 });
    expect(rowsA).toContainEqual({ key: "count", value: 3 });
  });
});

describe("on(event, handler) as due work", () => {
  it("is delivered once per event across a crash before its commit (counted by idempotency key)", async () => {
    const s = session("noter");
    probe.crashSessionAt(s.session, "before-handler-commit");
    await addNote(s, "first");
    await until(
      async () => probe.executions(`fault:${s.session}`),
      (n) => n === 1,
    );
    // The next instance redrives the delivery the crash cut short.
    await until(
      () => rows(s, "SELECT seq, text FROM note_log ORDER BY seq"),
      (r) => r.length === 1,
    );
    await addNote(s, "second");
    const log = await until(
      () => rows(s, "SELECT seq, text FROM note_log ORDER BY seq"),
      (r) => r.length === 2,
    );
    expect(log).toEqual([
      { seq: 1, text: "first" },
      { seq: 2, text: "second" },
    ]);
    const key = (seq: number) => `on:noter/${s.session}/note.added/${seq}`;
    // At least once: the crashed delivery ran again, with the same key; its write committed once.
    expect(probe.executions(key(1))).toBe(2);
    expect(probe.executions(key(2))).toBe(1);
    expect((await s.events()).map((e) => e.kind)).not.toContain("trigger.failed");
  });
});

describe("app code schedules and triggers write SQL", () => {
  it("ctx.schedule from a tool goes through the schedule command and is listed", async () => {
    const s = session("noter");
    await s.post("runs", { input: { message: "remind stretch" } });
    const done = await s.waitFor(isTerminal);
    expect(done.kind).toBe("run.completed");
    const result = (await s.events()).find((e) => e.kind === "tool.completed");
    const { key } = (result?.data as { result: { key: string } } | undefined)?.result ?? {
      key: "",
    };
    expect(key).toMatch(/^remind-/);
    const list = (await (await s.get("schedules")).json()) as {
      schedules: { key: string; kind: string; payload: unknown }[];
    };
    expect(list.schedules).toEqual([
      expect.objectContaining({ key, kind: "tally", payload: { text: "stretch" } }),
    ]);
  });

  it("a trigger's SQL and emits commit with its run's completion", async () => {
    const s = session("noter");
    const posted = await s.post("schedules", {
      kind: "tally",
      key: "t1",
      delayMs: 0,
      payload: { text: "from a trigger" },
    });
    expect(posted.status).toBe(201);
    const event = await s.waitFor((e) => e.kind === "app.note.added");
    expect(event.data).toEqual({ text: "from a trigger" });
    expect(await rows(s, "SELECT key, text FROM tally")).toEqual([
      { key: "t1", text: "from a trigger" },
    ]);
    expect(probe.executions(`tally:${s.session}`)).toBe(1);
    const schedules = (await (await s.get("schedules")).json()) as { schedules: unknown[] };
    expect(schedules.schedules).toEqual([]);
  });
});

describe("app events on the wire", () => {
  it("AG-UI carries them as CUSTOM events and the UI stream as data-app.* parts", async () => {
    const s = session("noter");
    // The UI stream as useChat starts it: the run's chunks to [DONE].
    const response = await s.fetch(s.url("ui-stream"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatRequest("note wired")),
    });
    const chunks = uiChunks(await response.text());
    for (const chunk of chunks) await validateChunk(chunk);
    const agui = await readSse(s.fetch, s.url("agui"), (e) => e.data.type === "RUN_FINISHED");
    for (const event of agui) expect(EventSchemas.safeParse(event.data).error).toBeUndefined();
    expect(agui.map((e) => e.data)).toContainEqual({
      type: "CUSTOM",
      name: "app.note.added",
      value: { text: "wired" },
    });
    const data = chunks.find((c) => c.type === "data-app.note.added");
    expect(data).toMatchObject({ data: { text: "wired" } });
    const message = await rebuildMessage(chunks);
    expect(message?.parts).toContainEqual(
      expect.objectContaining({ type: "data-app.note.added", data: { text: "wired" } }),
    );
  });
});
