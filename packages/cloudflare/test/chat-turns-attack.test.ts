/**
 * Review probes (chatattack): which turn a chat request acts on, with the real Chat in workerd.
 * The DEFECT tests of the review now pass and are named for what they check; `holds` ones held
 * before (docs/delivery.md "Which turn a regenerate or an edit acts on").
 */
import type { UIMessage } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { textOf } from "../../../test/support/node-chat.ts";
import { uiChunks } from "../../../test/support/ui-message.ts";
import { probe } from "./fixture/probe.ts";
import { history, tab, userTexts } from "./support/chat-tab.ts";
import { BASE, type SessionHandle, session } from "./support/session.ts";

afterEach(() => probe.reset());

const starts = async (s: SessionHandle) =>
  (await s.events()).filter((e) => e.kind === "run.started");

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("attack: chat turns", () => {
  it("regenerate() of the first turn when the chat starts with a client-only assistant greeting replaces it", async () => {
    const s = session("chatty");
    const greeting: UIMessage = {
      id: "welcome",
      role: "assistant",
      parts: [{ type: "text", text: "Hi! How can I help?" }],
    };
    const a = await tab(s, [greeting]);
    await a.sendMessage({ text: "hello" });
    expect(a.status).toBe("ready");
    await a.regenerate();
    expect(a.error?.message).toBeUndefined();
    expect(a.status).toBe("ready");
    expect(await starts(s)).toHaveLength(2);
  });

  it("holds: regenerate() after a reload (chat-history) of a turn with a file part", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({
      text: "look",
      files: [{ type: "file", mediaType: "image/png", url: PNG, filename: "dot.png" }],
    });
    expect(a.status).toBe("ready");
    const restored = await history(s);
    const b = await tab(s, restored);
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    expect(b.status).toBe("ready");
    expect(await starts(s)).toHaveLength(2);
  });

  it("holds: regenerate() after a reload (chat-history), text only; then an edit", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({ text: "one" });
    await a.sendMessage({ text: "two" });
    const b = await tab(s, await history(s));
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    const lastUser = b.messages.at(-2)?.id as string;
    await b.sendMessage({ text: "two, edited", messageId: lastUser });
    expect(b.error?.message).toBeUndefined();
    expect(await userTexts(s)).toEqual(["one", "two, edited"]);
  });

  it("holds: the user deliberately sends 'yes' twice after two answers: two runs", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({ text: "yes" });
    await a.sendMessage({ text: "yes" });
    expect(await starts(s)).toHaveLength(2);
    expect(await userTexts(s)).toEqual(["yes", "yes"]);
  });

  it("documented: a fresh tab that did not load the history sends the first turn's text again: one run", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    const b = await tab(s);
    await b.sendMessage({ text: "hello" });
    // Documented: one run. Seen?
    expect((await starts(s)).length).toBe(1);
  });

  it("holds: regenerate() after an addToolApprovalResponse round", async () => {
    const s = session("approver");
    const a = await tab(s);
    await a.sendMessage({ text: "pay" });
    const parts = (a.lastMessage?.parts ?? []) as { type: string; approval?: { id: string } }[];
    const ids = parts.filter((p) => p.approval).map((p) => p.approval?.id as string);
    expect(ids.length).toBe(2);
    for (const id of ids) await a.addToolApprovalResponse({ id, approved: true });
    await a.sendMessage();
    expect(a.error?.message).toBeUndefined();
    expect(textOf(a.lastMessage)).toContain("Results");
    await a.regenerate();
    expect(a.error?.message).toBeUndefined();
    expect(a.status).toBe("ready");
  });

  it("holds: interrupt a running chat turn: reply and status carry interruptRequested; then regenerate", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    probe.close("slow_echo");
    const second = a.sendMessage({ text: "long please" });
    const started = await s.waitFor(
      (e) => e.kind === "tool.started" && e.runId !== undefined && e.runId !== a.messages[1]?.id,
    );
    const reply = await s.post("interrupt", { reason: "enough" });
    const replyBody = (await reply.json()) as Record<string, unknown>;
    const status1 = (await (await s.get("status")).json()) as Record<string, unknown>;
    probe.open("slow_echo");
    await second;
    await s.waitFor((e) => e.kind === "run.interrupted");
    const status2 = (await (await s.get("status")).json()) as Record<string, unknown>;
    expect({ reply: replyBody, status1, status2 }).toMatchObject({
      reply: { status: "running", interruptRequested: true },
      status1: { status: "running", interruptRequested: true },
      status2: { status: "interrupted", interruptRequested: false },
    });
    expect(started.runId).toBeDefined();
    await a.regenerate();
    expect(a.error?.message).toBeUndefined();
    expect(a.status).toBe("ready");
    const st = await starts(s);
    expect(st).toHaveLength(3);
    expect(st[2]?.data).toMatchObject({ replaces: st[1]?.runId });
    expect(await userTexts(s)).toEqual(["hello", "long please"]);
  });

  it("holds: after an interrupted run, the same text sent again starts a new run", async () => {
    const s = session("probe");
    const a = await tab(s);
    probe.close("slow_echo");
    const first = a.sendMessage({ text: "go" });
    await s.waitFor((e) => e.kind === "tool.started");
    await s.post("interrupt", {});
    probe.open("slow_echo");
    await first;
    await s.waitFor((e) => e.kind === "run.interrupted");
    // the client drops the broken answer (setMessages) and asks again
    a.messages = a.messages.slice(0, 1);
    a.messages = [];
    await a.sendMessage({ text: "go" });
    expect(a.error?.message).toBeUndefined();
    expect(await starts(s)).toHaveLength(2);
  });

  it("holds: regenerate() after a failed run", async () => {
    const s = session("verbose");
    const a = await tab(s);
    await a.sendMessage({ text: "hi" });
    await s.waitFor((e) => e.kind === "run.failed");
    a.clearError();
    await a.regenerate();
    expect(a.error?.message ?? "").not.toContain("not_latest_run");
    expect(await starts(s)).toHaveLength(2);
  });

  it("holds: a session forked at a checkpoint, restored from its chat-history, then continued and regenerated", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({ text: "one" });
    await a.sendMessage({ text: "two" });
    const cps = ((await (await s.get("checkpoints")).json()) as { checkpoints: { id: string }[] })
      .checkpoints;
    const forked = await s.post("fork", { checkpoint: cps[0]?.id });
    expect(forked.status).toBe(201);
    const { session: named } = (await forked.json()) as { session: string };
    const f = session("chatty", named);
    const b = await tab(f, await history(f));
    const before = b.messages.length;
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    await b.sendMessage({ text: "two, again" });
    expect(b.error?.message).toBeUndefined();
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    expect({ before, users: await userTexts(f) }).toEqual({
      before: 2,
      users: ["one", "two, again"],
    });
  });

  it("a greeting chat: an identical POST of the first turn sent again gets its run's stream: one run", async () => {
    const s = session("chatty");
    const body = JSON.stringify({
      id: s.session,
      trigger: "submit-message",
      messages: [
        {
          id: "welcome",
          role: "assistant",
          parts: [{ type: "text", text: "Hi! How can I help?" }],
        },
        { id: "u1", role: "user", parts: [{ type: "text", text: "hello" }] },
      ],
    });
    const post = () =>
      s.fetch(`${BASE}/chat/chatty`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    await (await post()).text();
    await (await post()).text();
    expect(await starts(s)).toHaveLength(1);
  });

  it("an app-inserted local assistant notice before the last user message is no turn: send and regenerate act on the runs", async () => {
    const s = session("chatty");
    const a = await tab(s);
    await a.sendMessage({ text: "one" });
    a.messages = [
      ...a.messages,
      { id: "notice", role: "assistant", parts: [{ type: "text", text: "(reconnected)" }] },
    ];
    await a.sendMessage({ text: "two" });
    expect(a.error?.message).toBeUndefined();
    await a.regenerate();
    expect(a.error?.message).toBeUndefined();
    expect(await userTexts(s)).toEqual(["one", "two"]);
  });

  it("regenerate() of a run resumed with a message (two user messages) keeps the first on the server, where the client shows it", async () => {
    const s = session("probe");
    const a = await tab(s);
    probe.close("slow_echo");
    const first = a.sendMessage({ text: "go" });
    await s.waitFor((e) => e.kind === "tool.started");
    await s.post("interrupt", {});
    probe.open("slow_echo");
    await first;
    await s.waitFor((e) => e.kind === "run.interrupted");
    const resumed = await s.post("resume", { mode: "with_message", message: "and also this" });
    expect(resumed.status).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed");
    expect(await userTexts(s)).toEqual(["go", "and also this"]);
    const restored = await history(s);
    const b = await tab(s, restored);
    const shown = b.messages.filter((m) => m.role === "user").map(textOf);
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    const clientUsers = b.messages.filter((m) => m.role === "user").map(textOf);
    // the client still shows both user messages; does the server?
    expect({ shown, clientUsers, server: await userTexts(s) }).toEqual({
      shown: ["go", "and also this"],
      clientUsers: ["go", "and also this"],
      server: ["go", "and also this"],
    });
  });

  it("regenerate() of a run resumed with a message keeps the first message's files: the new run and a reload see them as the original did", async () => {
    const s = session("probe");
    const a = await tab(s);
    probe.close("slow_echo");
    const file = { type: "file", mediaType: "image/png", url: PNG } as const;
    const first = a.sendMessage({ text: "go", files: [file] });
    await s.waitFor((e) => e.kind === "tool.started");
    await s.post("interrupt", {});
    probe.open("slow_echo");
    await first;
    await s.waitFor((e) => e.kind === "run.interrupted");
    expect(
      (await s.post("resume", { mode: "with_message", message: "and also this" })).status,
    ).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed");
    const userParts = async () =>
      (await s.messages()).filter((m) => m.role === "user").map((m) => m.parts);
    const original = await userParts();
    expect(original).toEqual([
      [{ type: "text", text: "go" }, file],
      [{ type: "text", text: "and also this" }],
    ]);

    const b = await tab(s, await history(s));
    await b.regenerate();
    expect(b.error?.message).toBeUndefined();
    const [, again] = await starts(s);
    // What the new run starts from (its prompt is built from these messages), and what a reload shows.
    expect(again?.kind === "run.started" && again.data.input.messages?.[0]).toEqual({
      role: "user",
      content: "go",
      files: [file],
    });
    expect(await userParts()).toEqual(original);
    const reloaded = (await history(s)).filter((m) => m.role === "user");
    expect(reloaded[0]?.parts).toContainEqual(expect.objectContaining(file));
  });

  it("an edit POST sent again (retried by a proxy) while its run goes gets that run's stream: no second run, nothing aborted", async () => {
    const s = session("probe");
    const a = await tab(s);
    probe.open("slow_echo");
    await a.sendMessage({ text: "hello" });
    await a.sendMessage({ text: "again" });
    const body = JSON.stringify({
      id: s.session,
      trigger: "submit-message",
      messageId: a.messages[2]?.id,
      messages: [
        ...a.messages.slice(0, 2),
        { id: a.messages[2]?.id, role: "user", parts: [{ type: "text", text: "again, edited" }] },
      ],
    });
    probe.close("slow_echo");
    const post = () =>
      s.fetch(`${BASE}/chat/probe`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const r1 = await post();
    await s
      .waitFor((e) => e.kind === "tool.started" && (e.seq ?? 0) > 0, 5000)
      .catch(() => undefined);
    const r2 = await post();
    probe.open("slow_echo");
    await r1.text();
    await r2.text();
    const kinds = (await s.events()).map((e) => e.kind);
    expect({
      starts: (await starts(s)).length,
      aborted: kinds.filter((k) => k === "run.aborted").length,
    }).toEqual({
      starts: 3,
      aborted: 0,
    });
  });

  it("send while the latest run waits for approval: the 409 run_active says to answer the calls, regenerate or stop, not to wait", async () => {
    const s = session("approver");
    const a = await tab(s);
    await a.sendMessage({ text: "pay" });
    await a.sendMessage({ text: "never mind, do something else" });
    expect(a.error?.message).toContain("run_active");
    // The run waits on this client's approval: it never finishes by itself.
    expect(a.error?.message).toContain("addToolApprovalResponse");
    expect(a.error?.message).toContain("regenerate()");
    expect(a.error?.message).not.toContain("wait for it to finish");
  });

  it("a stale tab's edit of a turn another tab's edit is still answering is a 409 turn_in_progress: nothing aborted", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    await a.sendMessage({ text: "again" });
    const b = await tab(s, structuredClone(a.messages));
    probe.close("slow_echo");
    const aEdit = a.sendMessage({
      text: "again, A's edit",
      messageId: a.messages[2]?.id as string,
    });
    let aRun: { runId?: string } = {};
    for (let i = 0; i < 200 && !aRun.runId; i++) {
      const st = await starts(s);
      const third = st[2]?.runId;
      if (third && (await s.events()).some((e) => e.kind === "tool.started" && e.runId === third))
        aRun = { runId: third };
    }
    expect(aRun.runId).toBeDefined();
    const bEdit = b.sendMessage({
      text: "again, B's edit",
      messageId: b.messages[2]?.id as string,
    });
    for (let i = 0; i < 100; i++) {
      if ((await starts(s)).length > 3 || b.status === "error" || b.status === "ready") break;
    }
    probe.open("slow_echo");
    await aEdit;
    await bEdit;
    const kinds = (await s.events()).map((e) => e.kind);
    expect({
      aborted: kinds.filter((k) => k === "run.aborted").length,
      users: await userTexts(s),
      a: a.error?.message,
      b: b.error?.message ?? "",
    }).toEqual({
      aborted: 0,
      users: ["hello", "again, A's edit"],
      a: undefined,
      b: expect.stringContaining("turn_in_progress"),
    });
  });

  it("holds: two identical POSTs at once: one run, both get its stream", async () => {
    const s = session("chatty");
    const chat = await tab(s);
    await chat.sendMessage({ text: "one" });
    const body = JSON.stringify({
      id: s.session,
      trigger: "submit-message",
      messages: [
        ...chat.messages,
        { id: "u2", role: "user", parts: [{ type: "text", text: "two" }] },
      ],
    });
    const post = () =>
      s.fetch(`${BASE}/chat/chatty`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const [r1, r2] = await Promise.all([post(), post()]);
    const [t1, t2] = await Promise.all([r1.text(), r2.text()]);
    expect(uiChunks(t2)).toEqual(uiChunks(t1));
    expect({ s1: r1.status, s2: r2.status, starts: (await starts(s)).length }).toEqual({
      s1: 200,
      s2: 200,
      starts: 2,
    });
  });

  it("a stale tab's regenerate of a turn another tab's regenerate is still answering gets that run's stream: nothing aborted", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    await a.sendMessage({ text: "again" });
    const b = await tab(s, structuredClone(a.messages));
    probe.close("slow_echo");
    const aRegen = a.regenerate();
    for (let i = 0; i < 200; i++) {
      const third = (await starts(s))[2]?.runId;
      if (third && (await s.events()).some((e) => e.kind === "tool.started" && e.runId === third))
        break;
    }
    const bRegen = b.regenerate();
    for (let i = 0; i < 100; i++) {
      if ((await starts(s)).length > 3 || b.status === "error" || b.status === "ready") break;
    }
    probe.open("slow_echo");
    await aRegen;
    await bRegen;
    const kinds = (await s.events()).map((e) => e.kind);
    expect({
      aborted: kinds.filter((k) => k === "run.aborted").length,
      starts: (await starts(s)).length,
      errors: [a.error?.message, b.error?.message],
      same: textOf(b.lastMessage) === textOf(a.lastMessage),
    }).toEqual({
      aborted: 0,
      starts: 3,
      errors: [undefined, undefined],
      same: true,
    });
  });

  it("holds: interrupt a run waiting for approval answers interrupted, interruptRequested false", async () => {
    const s = session("approver");
    const a = await tab(s);
    await a.sendMessage({ text: "pay" });
    const w = await s.post("interrupt", {});
    const wb = await w.json();
    const st = await (await s.get("status")).json();
    expect(st).toMatchObject({ status: "interrupted", interruptRequested: false });
    expect(wb).toMatchObject({ status: "interrupted", interruptRequested: false });
  });

  it("an edit of the running latest turn with a refused file part is a 400 and leaves that run going (nothing aborted)", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    probe.close("slow_echo");
    const second = a.sendMessage({ text: "again" });
    let runId: string | undefined;
    for (let i = 0; i < 200 && !runId; i++) {
      const r = (await starts(s))[1]?.runId;
      if (r && (await s.events()).some((e) => e.kind === "tool.started" && e.runId === r))
        runId = r;
    }
    await a.stop();
    await second;
    const b = await tab(s, structuredClone(a.messages));
    await b.sendMessage({
      text: "again, with a picture",
      files: [{ type: "file", mediaType: "image/png", url: "http://10.0.0.1/x.png" }],
      messageId: b.messages[2]?.id as string,
    });
    const status = (await (await s.get("status")).json()) as { status: string; runId: string };
    probe.open("slow_echo");
    const kinds = (await s.events()).map((e) => e.kind);
    expect({
      err: (b.error?.message ?? "").slice(0, 40),
      status: status.status,
      sameRun: status.runId === runId,
      aborted: kinds.filter((k) => k === "run.aborted").length,
    }).toEqual({
      err: expect.stringContaining("invalid_request"),
      status: "running",
      sameRun: true,
      aborted: 0,
    });
  });

  it("stop() then a message with a refused file part is a 400 and leaves the stopped run as it was (nothing aborted)", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    probe.close("slow_echo");
    const second = a.sendMessage({ text: "again" });
    let runId: string | undefined;
    for (let i = 0; i < 200 && !runId; i++) {
      const r = (await starts(s))[1]?.runId;
      if (r && (await s.events()).some((e) => e.kind === "tool.started" && e.runId === r))
        runId = r;
    }
    await a.stop();
    await second;
    await a.sendMessage({
      text: "something else",
      files: [{ type: "file", mediaType: "image/png", url: "http://10.0.0.1/x.png" }],
    });
    const status = (await (await s.get("status")).json()) as { status: string; runId: string };
    probe.open("slow_echo");
    const kinds = (await s.events()).map((e) => e.kind);
    expect({
      err: (a.error?.message ?? "").slice(0, 40),
      status: status.status,
      sameRun: status.runId === runId,
      aborted: kinds.filter((k) => k === "run.aborted").length,
      starts: (await starts(s)).length,
    }).toEqual({
      err: expect.stringContaining("invalid_request"),
      status: "running",
      sameRun: true,
      aborted: 0,
      starts: 2,
    });
  });

  it("holds: a chat that starts with a system message: regenerate() and regenerate({ messageId }) of the first turn", async () => {
    const s = session("chatty");
    const a = await tab(s, [
      { id: "sys", role: "system", parts: [{ type: "text", text: "Be brief." }] },
    ]);
    await a.sendMessage({ text: "hello" });
    await a.regenerate();
    expect(a.error?.message).toBeUndefined();
    await a.regenerate({ messageId: a.lastMessage?.id as string });
    expect(a.error?.message).toBeUndefined();
    expect(await starts(s)).toHaveLength(3);
    expect(await userTexts(s)).toEqual(["hello"]);
  });

  it("holds: after a reload while the latest run still runs, resumeStream then regenerate() replaces it", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    probe.close("slow_echo");
    const second = a.sendMessage({ text: "again" });
    for (let i = 0; i < 200; i++) {
      const r = (await starts(s))[1]?.runId;
      if (r && (await s.events()).some((e) => e.kind === "tool.started" && e.runId === r)) break;
    }
    const b = await tab(s, await history(s));
    expect(b.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    const regen = b.regenerate();
    for (let i = 0; i < 100; i++) if ((await starts(s)).length > 2 || b.status === "error") break;
    probe.open("slow_echo");
    await regen;
    await second;
    expect(b.error?.message).toBeUndefined();
    const st = await starts(s);
    expect(st).toHaveLength(3);
    expect(st[2]?.data).toMatchObject({ replaces: st[1]?.runId });
    expect(await userTexts(s)).toEqual(["hello", "again"]);
  });

  it("holds: an answer that comes back blank, then the user sends the same text again: a second run", async () => {
    const s = session("mute");
    const a = await tab(s);
    await a.sendMessage({ text: "empty please" });
    const roles = a.messages.map((m) => m.role);
    a.clearError();
    await a.sendMessage({ text: "empty please" });
    expect({ roles, starts: (await starts(s)).length }).toEqual({ roles, starts: 2 });
  });

  it("holds: interruptRequested is cleared when the interrupted run is resumed and runs again", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    const r1 = await (await s.post("interrupt", {})).json();
    probe.open("slow_echo");
    await s.waitFor((e) => e.kind === "run.interrupted");
    probe.close("slow_echo");
    const resumed = await s.post("resume", { mode: "continue" });
    const r2 = await resumed.json();
    const st = await (await s.get("status")).json();
    probe.open("slow_echo");
    await s.waitFor((e) => e.kind === "run.completed");
    const done = await (await s.get("status")).json();
    expect({ r1, r2, st, done }).toMatchObject({
      r1: { status: "running", interruptRequested: true },
      r2: { interruptRequested: false },
      st: { interruptRequested: false },
      done: { status: "completed", interruptRequested: false },
    });
  });
});
