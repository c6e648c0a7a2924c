import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";

afterEach(() => probe.reset());

describe("interrupt and abort", () => {
  it("interrupt is durable: the step's tools finish, then the run ends interrupted", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    const response = await s.post("interrupt", { reason: "user clicked stop" });
    expect(response.status).toBe(202);
    // The reply is the truth at that moment: still running, with the interrupt requested; the
    // run ends interrupted at its next step boundary.
    expect(await response.json()).toMatchObject({ status: "running", interruptRequested: true });
    expect(await s.status()).toMatchObject({ status: "running", interruptRequested: true });
    probe.open("slow_echo");
    const end = await s.waitFor(isTerminal);
    expect(end.kind).toBe("run.interrupted");
    expect(await s.status()).toMatchObject({ status: "interrupted", interruptRequested: false });
    const kinds = (await s.events()).map((e) => e.kind);
    expect(kinds).toContain("run.interrupt_requested");
    expect(kinds.filter((k) => k === "tool.completed")).toHaveLength(2);
    expect(kinds).not.toContain("run.completed");
    expect((await s.status()).status).toBe("interrupted");
  });

  it("the replies of interrupt, resume, abort and close are GET status's shape, exists too", async () => {
    /** A session whose run was interrupted mid-step, with the reply to the interrupt. */
    async function interrupted() {
      const s = session("probe");
      probe.close("slow_echo");
      await s.post("runs", { input: { message: "go" } });
      await s.waitFor((e) => e.kind === "tool.started");
      const reply = await s.post("interrupt", { reason: "stop" });
      probe.open("slow_echo");
      await s.waitFor(isTerminal);
      return { s, reply };
    }
    const first = await interrupted();
    const second = await interrupted();
    const replies = {
      interrupt: first.reply,
      abort: await first.s.post("abort"),
      close: await first.s.post("close"),
      resume: await second.s.post("resume", { mode: "continue" }),
    };
    const shape = Object.keys(await first.s.status()).sort();
    expect(shape).toContain("exists");
    for (const [action, response] of Object.entries(replies)) {
      expect(response.status, action).toBe(action === "close" ? 200 : 202);
      const reply = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(reply).sort(), action).toEqual(shape);
      expect(reply.exists, action).toBe(true);
    }
  });

  it("abort is terminal at once, and a late tool result is dropped", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    expect((await s.post("abort")).status).toBe(202);
    expect((await s.status()).status).toBe("aborted");
    probe.open("slow_echo");
    await new Promise((r) => setTimeout(r, 200));
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.aborted");
    expect(
      events.filter(
        (e) => e.kind === "tool.completed" && (e.data as { name: string }).name === "slow_echo",
      ),
    ).toEqual([]);
    // The session takes a new run after an abort.
    probe.reset();
    expect((await s.post("runs", { input: { message: "again" } })).status).toBe(202);
    expect((await s.waitFor((e) => e.kind === "run.completed")).kind).toBe("run.completed");
  });
});

describe("reading the ledger live", () => {
  it("long-poll waits for the next event, and answers 204 when none comes", async () => {
    const s = session("probe");
    const idle = await s.get("events", "offset=now&live=long-poll");
    expect(idle.status).toBe(204);
    expect(idle.headers.get("stream-up-to-date")).toBe("true");
    expect(idle.headers.get("stream-next-offset")).toBe("0000000000000000");
    // From the idle tail, not offset=now: the start may reach the object first (auth is async).
    const waiting = s.get("events", "offset=0000000000000000&live=long-poll");
    await s.post("runs", { input: { message: "go" } });
    const woke = await waiting;
    expect(woke.status).toBe(200);
    const events = (await woke.json()) as { seq: number; kind: string }[];
    expect(events[0]).toMatchObject({ seq: 1, kind: "run.started" });
    await s.waitFor(isTerminal);
  });

  it("SSE delivers every event once, in order, with control events carrying the offset", async () => {
    const s = session("chatty");
    const response = await s.get("events", "offset=-1&live=sse");
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    await s.post("runs", { input: { message: "talk" } });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("run.completed")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    const seqs = [...text.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const controls = [...text.matchAll(/event: control\ndata:(.*)\nid: (\d{16})\n/g)];
    expect(controls.length).toBeGreaterThan(0);
    expect(JSON.parse(controls.at(-1)![1]!)).toMatchObject({
      streamNextOffset: controls.at(-1)![2],
    });
  });

  it("SSE resumes after Last-Event-ID", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    const all = await s.events();
    const from = all[4]!.offset;
    const response = await s.fetch(s.url("events", "live=sse"), {
      headers: { "last-event-id": from },
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const first = [...(value ?? "").matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]))[0];
    expect(first).toBe(6);
  });
});
