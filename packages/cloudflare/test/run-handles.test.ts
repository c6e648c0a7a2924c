import { afterEach, describe, expect, it } from "vitest";
import { completions, hooks } from "./fixture/platform.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";
import { until } from "./support/until.ts";

/**
 * Hooks and handles apps act on: onComplete for every end of a run with its status, a hook
 * that interrupts the running run through the command layer, a start with seed state,
 * prior messages and metadata, a resume that adds messages, and the hook registry's
 * unregister and clear. The fixture's hooks are a HookRegistry (fixture/platform.ts).
 */
afterEach(() => probe.reset());

const endsOf = (s: SessionHandle) => completions.filter((c) => c.session === s.session);

describe("onComplete for every end of a run", () => {
  it("a failed run: onComplete gets status failed, the step and the error", async () => {
    const s = session("counter");
    // The counter agent's model refuses once at step 3 for a message starting "fail once".
    await s.post("runs", { input: { message: `fail once ${s.session}` } });
    const end = await s.waitFor(isTerminal);
    expect(end.kind).toBe("run.failed");
    await until(
      () => s.events(),
      () => endsOf(s).length > 0,
    );
    expect(endsOf(s)).toEqual([
      {
        session: s.session,
        runId: end.runId,
        idempotencyKey: `counter/${s.session}/${end.runId}/${end.seq}`,
        failed: false,
        status: "failed",
        step: 3,
        error: { code: "model_rejected", message: "the scripted model refuses once" },
      },
    ]);
  });

  it("an interrupted run, then its resumed completion: one onComplete per end, each with its status", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    expect((await s.post("interrupt", { reason: "user clicked stop" })).status).toBe(202);
    probe.open("slow_echo");
    const interrupted = await s.waitFor(isTerminal);
    expect(interrupted.kind).toBe("run.interrupted");
    await until(
      () => s.events(),
      () => endsOf(s).length > 0,
    );
    expect(endsOf(s)[0]).toMatchObject({
      status: "interrupted",
      reason: "user clicked stop",
      step: 1,
      idempotencyKey: `probe/${s.session}/${interrupted.runId}/${interrupted.seq}`,
    });
    expect((await s.post("resume", { mode: "continue" })).status).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed");
    await until(
      () => s.events(),
      () => endsOf(s).length > 1,
    );
    expect(endsOf(s).map((c) => c.status)).toEqual(["interrupted", "completed"]);
    expect(new Set(endsOf(s).map((c) => c.idempotencyKey)).size).toBe(2);
  });

  it("an aborted run: onComplete gets status aborted and the reason", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    expect((await s.post("abort", { reason: "operator gave up" })).status).toBe(202);
    const aborted = await s.waitFor(isTerminal);
    expect(aborted.kind).toBe("run.aborted");
    probe.open("slow_echo");
    await until(
      () => s.events(),
      () => endsOf(s).length > 0,
    );
    expect(endsOf(s)).toEqual([
      expect.objectContaining({
        runId: aborted.runId,
        status: "aborted",
        reason: "operator gave up",
        idempotencyKey: `probe/${s.session}/${aborted.runId}/${aborted.seq}`,
      }),
    ]);
  });
});

describe("hooks act on the current run", () => {
  it("a hook sees the execution state and interrupts the running run through the command layer", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const { runId } = (await (await s.post("runs", { input: { message: "go" } })).json()) as {
      runId: string;
    };
    await s.waitFor((e) => e.kind === "tool.started");
    // The fixture's afterCommand guard interrupts a running run when `budget` usage is recorded.
    expect((await s.post("usage", { metric: "budget", value: 1 })).status).toBe(201);
    probe.open("slow_echo");
    const end = await s.waitFor(isTerminal);
    expect(end).toMatchObject({ kind: "run.interrupted", runId, data: { reason: "over budget" } });
    await until(
      () => s.events(),
      () => endsOf(s).length > 0,
    );
    expect(endsOf(s)[0]).toMatchObject({ status: "interrupted", reason: "over budget" });
    // Between runs the same guard does nothing: it checks the execution state first.
    expect((await s.post("usage", { metric: "budget", value: 1 })).status).toBe(201);
    expect((await s.status()).status).toBe("interrupted");
  });

  it("unregister and clear take a hook out at once", async () => {
    const s = session("chatty");
    const refuse = () =>
      Response.json({ error: { code: "paused", message: "paused" } }, { status: 423 });
    const off = hooks.register("beforeStart", refuse);
    expect((await s.post("runs", { input: { message: "hi" } })).status).toBe(423);
    expect(off()).toBe(true);
    expect(off()).toBe(false);
    expect((await s.post("runs", { input: { message: "hi" } })).status).toBe(202);
    await s.waitFor(isTerminal);

    const other = session("chatty");
    hooks.register("beforeResume", refuse);
    hooks.register("beforeRetry", refuse);
    expect(hooks.count("beforeResume")).toBe(2); // the fixture's own and this one
    hooks.clear("beforeRetry");
    expect(hooks.count("beforeRetry")).toBe(0);
    hooks.unregister("beforeResume", refuse);
    expect(hooks.count("beforeResume")).toBe(1);
    expect((await other.post("runs", { input: { message: "hi" } })).status).toBe(202);
  });
});

describe("a start carries seed state, prior messages and metadata; a resume adds messages", () => {
  it("the seed is the state the tools start from, the prior messages come before the message, the metadata reaches onComplete", async () => {
    const s = session("counter");
    const started = await s.post("runs", {
      input: {
        message: "count",
        state: { count: 5, label: "seeded" },
        messages: [
          { role: "user", content: "earlier question" },
          { role: "assistant", content: "earlier answer" },
        ],
      },
      metadata: { ticket: "T-42", priority: 2 },
    });
    expect(started.status).toBe(202);
    const end = await s.waitFor(isTerminal);
    expect(end.kind).toBe("run.completed");
    const state = (await (await s.get("state")).json()) as { state: unknown };
    expect(state.state).toEqual({ count: 16 });
    const events = await s.events();
    const runStarted = events.find((e) => e.kind === "run.started");
    expect(runStarted?.data).toMatchObject({ metadata: { ticket: "T-42", priority: 2 } });
    // The seed commits just before run.started, so the run's start checkpoint includes it.
    const seed = events[events.indexOf(runStarted as (typeof events)[number]) - 1];
    expect(seed).toMatchObject({
      kind: "state.updated",
      data: { state: { count: 5, label: "seeded" }, source: "client" },
    });
    const messages = await s.messages();
    expect(
      messages.slice(0, 3).map((m) => [m.role, m.parts[0]?.type === "text" ? m.parts[0].text : ""]),
    ).toEqual([
      ["user", "earlier question"],
      ["assistant", "earlier answer"],
      ["user", "count"],
    ]);
    await until(
      () => s.events(),
      () => endsOf(s).length > 0,
    );
    expect(endsOf(s)[0]).toMatchObject({
      status: "completed",
      metadata: { ticket: "T-42", priority: 2 },
    });
  });

  it("bad seed state, messages or metadata: 400, and nothing is written", async () => {
    const s = session("counter");
    const bad = [
      { input: { message: "x", state: { count: "five" } } },
      { input: { message: "x", messages: [{ role: "system", content: "obey" }] } },
      { input: { message: "x", messages: [{ role: "user", content: "" }] } },
      { input: { message: "x" }, metadata: "not an object" },
    ];
    for (const body of bad) {
      const response = await s.post("runs", body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_request",
      );
    }
    expect(await s.events()).toEqual([]);
  });

  it("a resume with messages adds them before its message; without a message mode it is 400", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    await s.post("interrupt");
    probe.open("slow_echo");
    await s.waitFor(isTerminal);
    const before = (await s.events()).length;
    const refused = await s.post("resume", {
      mode: "continue",
      messages: [{ role: "user", content: "lost" }],
    });
    expect(refused.status).toBe(400);
    expect((await s.events()).length).toBe(before);

    const resumed = await s.post("resume", {
      mode: "with_message",
      messages: [
        { role: "user", content: "context one" },
        { role: "assistant", content: "noted" },
      ],
      message: "now finish",
    });
    expect(resumed.status).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed");
    const texts = (await s.messages()).map(
      (m) => `${m.role}:${m.parts[0]?.type === "text" ? m.parts[0].text : m.parts[0]?.type}`,
    );
    const at = texts.indexOf("user:context one");
    expect(at).toBeGreaterThan(0);
    expect(texts.slice(at, at + 3)).toEqual([
      "user:context one",
      "assistant:noted",
      "user:now finish",
    ]);
  });
});
