import { env } from "cloudflare:test";
import {
  BadRequestError,
  ConflictError,
  DurableAgentsError,
  type LedgerEvent,
  NotFoundError,
  type ResumeBody,
  RunAbortedError,
  RunFailedError,
  type WireEvent,
} from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { agentRuns, createStore, type RunHandle } from "../src/index.ts";
import { commandLog } from "./fixture/platform.ts";
import { probe } from "./fixture/probe.ts";
import { session } from "./support/session.ts";

/**
 * Run handles for Worker code (agentRuns): each method against the fixture agents, through
 * the same commands and readers as the HTTP routes, compared with what the routes answer.
 */
afterEach(() => probe.reset());

const runs = agentRuns(env);
const store = createStore(env);

async function collect(events: AsyncIterable<WireEvent>): Promise<WireEvent[]> {
  const all: WireEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** Reads the handle's stream until `predicate` holds for an event, then stops reading. */
async function until(handle: RunHandle, predicate: (e: LedgerEvent) => boolean) {
  for await (const event of handle.stream()) if (predicate(event)) return event;
  throw new Error("the run stopped before the awaited event");
}

const isTerminalKind = (kind: string) =>
  ["run.completed", "run.failed", "run.interrupted", "run.aborted"].includes(kind);

describe("execute, stream, result, getState", () => {
  it("streams the run's ledger live as GET .../events serves it, and result() resolves with the output", async () => {
    const s = session("counter");
    const run = await runs.execute(
      "counter",
      { input: { message: "count", state: { count: 5 } } },
      { session: s.session },
    );
    expect(run).toMatchObject({ agent: "counter", session: s.session });
    expect(run.runId).toMatch(/^run_/);
    const streamed = await collect(run.stream());
    // From the start (the seeded state first) to the run's end, each event with its offset.
    expect(streamed.map((e) => e.kind).slice(0, 2)).toEqual(["state.updated", "run.started"]);
    expect(streamed.at(-1)?.kind).toBe("run.completed");
    expect(streamed).toEqual(await s.events());
    const result = await run.result();
    expect(result).toEqual({
      status: "completed",
      runId: run.runId,
      step: 3,
      offset: streamed.at(-1)?.offset,
      output: "Counted to 11.",
    });
    const state = await run.getState();
    expect(state).toMatchObject({
      session: s.session,
      agent: "counter",
      status: "completed",
      runId: run.runId,
      step: 3,
      exists: true,
      closed: false,
      state: { count: 16 },
      stateVersion: 3,
    });
    expect(state.offset).toBe((await s.status()).offset);
  });

  it("execute without a session makes a new one; getHandle follows the session's latest run", async () => {
    const run = await runs.execute({ name: "counter" }, "count");
    expect(run.session).toMatch(/^[0-9a-f-]{36}$/);
    const handle = runs.getHandle("counter", run.session);
    expect(handle.runId).toBeUndefined();
    expect(await handle.result()).toMatchObject({ status: "completed", runId: run.runId });
    const fromGetHandle = await collect(handle.stream());
    expect(fromGetHandle[0]?.kind).toBe("run.started");
    expect(fromGetHandle).toEqual(await collect(run.stream({ offset: "-1" })));
  });

  it("a stream from the offset of an event goes on after it; past the run's end it ends at once", async () => {
    const run = await runs.execute("counter", "count");
    const all = await collect(run.stream());
    const middle = all[4];
    expect(await collect(run.stream({ offset: middle?.offset }))).toEqual(all.slice(5));
    expect(await collect(run.stream({ offset: all.at(-1)?.offset }))).toEqual([]);
    await expect(collect(run.stream({ offset: "banana" }))).rejects.toMatchObject({
      status: 400,
      code: "invalid_offset",
    });
  });

  it("send starts a follow-up run in the same session: a new handle, the conversation goes on", async () => {
    const s = session("counter");
    const first = await runs.execute("counter", "count", { session: s.session });
    await first.result();
    const second = await first.send("count again");
    expect(second.runId).not.toBe(first.runId);
    expect(second.session).toBe(s.session);
    expect(await second.result()).toMatchObject({ status: "completed", runId: second.runId });
    const users = (await s.messages()).filter((m) => m.role === "user");
    expect(users).toHaveLength(2);
    // Its stream starts at its own run.
    const streamed = await collect(second.stream());
    expect(streamed[0]).toMatchObject({ kind: "run.started", runId: second.runId });
  });

  it("a session without runs: stream and result refuse with no_run, canResume says why", async () => {
    const handle = runs.getHandle("counter", `empty-${Date.now()}`);
    await expect(collect(handle.stream())).rejects.toMatchObject({ status: 409, code: "no_run" });
    await expect(handle.result()).rejects.toMatchObject({ status: 409, code: "no_run" });
    expect(await handle.canResume()).toMatchObject({ canResume: false, code: "no_run" });
    expect(await handle.getState()).toMatchObject({ status: "idle", exists: false, runId: null });
    expect(() => runs.getHandle("counter", "no spaces")).toThrow(
      expect.objectContaining({ code: "invalid_path", status: 400 }),
    );
    await expect(runs.execute("ghost", "hi")).rejects.toMatchObject({ status: 404 });
  });
});

describe("a wait on sub-agents is no stop", () => {
  it("stream() and result() follow a run through run.waiting subagent to its end", async () => {
    const run = await runs.execute("lead", "research");
    const streamed = await collect(run.stream());
    const waits = streamed.filter((e) => e.kind === "run.waiting");
    expect(waits.map((e) => e.data)).toEqual([{ reason: "subagent" }]);
    expect(streamed.at(-1)?.kind).toBe("run.completed");
    expect(await run.result()).toMatchObject({ status: "completed", runId: run.runId });
  });
});

describe("one door: the handle's commands are the session commands", () => {
  it("hooks run on the store transport, a hook's refusal is the app's error, the start schema applies", async () => {
    const s = session("counter");
    const run = await runs.execute("counter", "count", { session: s.session });
    expect(commandLog).toContain(`before:start:store:${s.session}`);
    await run.result();
    // The fixture's beforeStart answers this message itself (as it would over HTTP).
    await expect(run.send("forbidden words")).rejects.toMatchObject({
      status: 422,
      code: "blocked_by_hook",
    });
    await expect(
      run.send({ input: { message: "" } } as unknown as { input: { message: string } }),
    ).rejects.toMatchObject({ status: 400, code: "invalid_request" });
    // Bad input is the command's 400, for canResume too (it takes the resume's schema).
    const bogus = { mode: "sideways" } as unknown as ResumeBody;
    await expect(run.resume(bogus)).rejects.toMatchObject({ status: 400, code: "invalid_request" });
    await expect(run.canResume(bogus)).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    await expect(run.interrupt("x".repeat(1001))).rejects.toMatchObject({ status: 400 });
    // A second start while a run is active: the start command's own 409.
    probe.close("slow_echo");
    const busy = await runs.execute("probe", "go");
    await expect(busy.send("again")).rejects.toMatchObject({ status: 409, code: "run_active" });
    probe.open("slow_echo");
    await busy.result();
  });

  it("a handle bound to a run never steers a later one (409 run_not_current)", async () => {
    const s = session("probe");
    const first = await runs.execute("probe", "go", { session: s.session });
    await first.result();
    probe.close("slow_echo");
    const second = await first.send("again");
    await until(second, (e) => e.kind === "tool.started");
    await expect(first.interrupt()).rejects.toMatchObject({
      status: 409,
      code: "run_not_current",
      details: { runId: first.runId, currentRunId: second.runId },
    });
    await expect(first.abort()).rejects.toMatchObject({ code: "run_not_current" });
    expect(await first.canResume()).toMatchObject({ canResume: false, code: "run_not_current" });
    // The session's handle acts on the latest run.
    await runs.getHandle("probe", s.session).abort("done here");
    probe.open("slow_echo");
    await expect(second.result()).rejects.toBeInstanceOf(RunAbortedError);
  });
});

describe("result() of runs that fail or are aborted", () => {
  it("a failed run rejects with RunFailedError carrying the run's error; resume from a checkpoint runs it again", async () => {
    const s = session("counter");
    const run = await runs.execute("counter", `fail once ${s.session}`, { session: s.session });
    const failure = await run.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(failure).toMatchObject({
      status: 409,
      code: "run_failed",
      runId: run.runId,
      runError: { code: "model_rejected", message: "the scripted model refuses once" },
      details: { step: 3 },
    });
    // The stream of a failed run ends at run.failed.
    expect((await collect(run.stream())).at(-1)?.kind).toBe("run.failed");
    expect(await run.canResume()).toMatchObject({ canResume: false, code: "run_failed" });
    const checkpoint = await store.session("counter", s.session).latestCheckpoint();
    const options: ResumeBody = { mode: "from_checkpoint", checkpoint: checkpoint?.id ?? "" };
    expect(await run.canResume(options)).toEqual({ canResume: true });
    expect(await run.resume(options)).toMatchObject({ status: "running", runId: run.runId });
    expect(await run.result()).toMatchObject({ status: "completed", output: "Counted to 11." });
  });

  it("an aborted run rejects with RunAbortedError carrying the abort's reason", async () => {
    probe.close("slow_echo");
    const run = await runs.execute("probe", "go");
    await until(run, (e) => e.kind === "tool.started");
    expect(await run.abort("changed my mind")).toMatchObject({ status: "aborted" });
    probe.open("slow_echo");
    const failure = await run.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunAbortedError);
    expect(failure).toMatchObject({
      status: 409,
      code: "run_aborted",
      reason: "changed my mind",
      runId: run.runId,
    });
    expect((await collect(run.stream())).at(-1)).toMatchObject({
      kind: "run.aborted",
      data: { reason: "changed my mind" },
    });
    await expect(run.interrupt()).rejects.toMatchObject({ status: 409, code: "no_active_run" });
  });

  it("result() with an aborted signal rejects with the signal's reason; a stream's signal ends it quietly", async () => {
    probe.close("slow_echo");
    const run = await runs.execute("probe", "go");
    const stop = new AbortController();
    const pending = run.result({ signal: stop.signal });
    stop.abort(new Error("gave up waiting"));
    await expect(pending).rejects.toThrow("gave up waiting");
    const reading = new AbortController();
    const seen: string[] = [];
    for await (const event of run.stream({ signal: reading.signal })) {
      seen.push(event.kind);
      if (event.kind === "tool.started") reading.abort();
    }
    expect(seen).toContain("tool.started");
    expect(seen.some(isTerminalKind)).toBe(false);
    probe.open("slow_echo");
    expect(await run.result()).toMatchObject({ status: "completed" });
  });
});

describe("interrupt and resume", () => {
  it("interrupt mid-run: result() resolves interrupted with the reason; resume with a message; the stream goes on from its last offset", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const run = await runs.execute("probe", "go", { session: s.session });
    const before: WireEvent[] = [];
    for await (const event of run.stream()) {
      before.push(event);
      if (event.kind === "tool.started") break;
    }
    expect(await run.interrupt("user clicked stop")).toMatchObject({ status: "running" });
    probe.open("slow_echo");
    expect(await run.result()).toMatchObject({
      status: "interrupted",
      reason: "user clicked stop",
      runId: run.runId,
    });
    const rest = await collect(run.stream({ offset: before.at(-1)?.offset }));
    expect(rest.at(-1)?.kind).toBe("run.interrupted");
    expect(await run.canResume()).toEqual({ canResume: true });
    // Input the resume refuses (a mode without what it needs) is a 400, as for resume itself.
    await expect(run.canResume({ mode: "with_message" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    await run.resume({ mode: "with_message", message: "carry on" });
    expect(await run.result()).toMatchObject({ status: "completed" });
    const after = await collect(run.stream({ offset: rest.at(-1)?.offset }));
    expect(after[0]).toMatchObject({ kind: "run.resumed", data: { mode: "with_message" } });
    // Pieced together, the three streams are the session's ledger: nothing lost or repeated.
    expect([...before, ...rest, ...after]).toEqual(await s.events());
  });
});

describe("approvals through resume", () => {
  it("result() resolves waiting with the pending calls; decisions after the object restarted resume the run", async () => {
    const s = session("approver");
    const run = await runs.execute("approver", "pay", { session: s.session });
    const waiting = await run.result();
    expect(waiting).toMatchObject({ status: "waiting", reason: "approval", runId: run.runId });
    if (waiting.status !== "waiting") throw new Error("not waiting");
    expect(waiting.pending.map((p) => [p.name, p.args, p.status])).toEqual([
      ["wire", { amount: 10 }, "awaiting_approval"],
      ["wire", { amount: 20 }, "awaiting_approval"],
    ]);
    // The stream stops where the run waits for a human, as the UI stream does.
    expect((await collect(run.stream())).at(-1)).toMatchObject({
      kind: "run.waiting",
      data: { reason: "approval" },
    });
    const [a, b] = waiting.pending;
    const unknown = { approvals: [{ callId: "nope", approved: true }] };
    expect(await run.canResume(unknown)).toMatchObject({ canResume: false, code: "unknown_call" });
    await expect(run.resume(unknown)).rejects.toMatchObject({ status: 404, code: "unknown_call" });

    // A restart of the session object between the wait and the decision.
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(s.stub());
    const decisions: ResumeBody = {
      approvals: [
        { callId: a?.callId ?? "", approved: true },
        { callId: b?.callId ?? "", approved: false, reason: "too much" },
      ],
    };
    expect(await run.canResume(decisions)).toEqual({ canResume: true });
    await run.resume(decisions);
    const done = await run.result();
    expect(done).toMatchObject({ status: "completed" });
    if (done.status === "completed")
      expect(done.output).toBe('Results: [{"wired":10},"a human denied this call: too much"]');
    // The approved wire ran once, the denied one never.
    const wires = (await s.events()).flatMap((e) => (e.kind === "tool.started" ? [e.data] : []));
    expect(wires.map((w) => w.callId)).toEqual([a?.callId]);
    const key = wires[0]?.idempotencyKey;
    expect(probe.executions(`effect:wire:${key}`)).toBe(1);
  });
});

describe("canResume is the resume's own rule, in every state", () => {
  /** canResume says what resume then does: accepted, or refused with the same code. */
  async function agrees(run: RunHandle, options: ResumeBody = {}) {
    const check = await run.canResume(options);
    const outcome = await run.resume(options).then(
      () => ({ canResume: true }) as const,
      (error: { code: string }) => ({ canResume: false, code: error.code }),
    );
    expect(check).toMatchObject(outcome);
    return check;
  }

  it("running, completed, aborted, interrupted, waiting, closed", async () => {
    probe.close("slow_echo");
    const running = await runs.execute("probe", "go");
    await until(running, (e) => e.kind === "tool.started");
    expect(await agrees(running)).toMatchObject({ canResume: false, code: "run_running" });
    probe.open("slow_echo");
    await running.result();
    expect(await agrees(running)).toMatchObject({ canResume: false, code: "run_not_resumable" });

    probe.close("slow_echo");
    const aborted = await runs.execute("probe", "go");
    await until(aborted, (e) => e.kind === "tool.started");
    await aborted.abort();
    probe.open("slow_echo");
    expect(await agrees(aborted)).toMatchObject({ canResume: false, code: "run_not_resumable" });

    const waiting = await runs.execute("approver", "pay");
    await waiting.result();
    // Input the resume refuses is a 400 from both, before the run's state is read.
    for (const ask of [waiting.canResume, waiting.resume])
      await expect(ask({ mode: "from_checkpoint" })).rejects.toMatchObject({
        status: 400,
        code: "invalid_request",
      });
    // Continue decides nothing while calls wait for decisions: refused, the run still waits.
    expect(await agrees(waiting)).toMatchObject({ canResume: false, code: "decisions_pending" });
    expect(await waiting.result()).toMatchObject({ status: "waiting" });

    probe.close("slow_echo");
    const s = session("probe");
    const interrupted = await runs.execute("probe", "go", { session: s.session });
    await until(interrupted, (e) => e.kind === "tool.started");
    await interrupted.interrupt();
    probe.open("slow_echo");
    await interrupted.result();
    // Closed: the ledger takes nothing more, so the interrupted run can no longer resume.
    await store.session("probe", s.session).compareAndSetStatus("interrupted", "closed");
    expect(await agrees(interrupted)).toMatchObject({ canResume: false, code: "session_closed" });
  });
});

describe("stream() across a restart of the session object", () => {
  for (const point of ["after-tool-started", "after-step-commit"] as const) {
    it(`no event lost or repeated when the object dies at ${point} while the stream reads`, async () => {
      const s = session("probe");
      probe.crashAt(point);
      const retried: unknown[] = [];
      const watched = agentRuns(env, { retry: { onRetry: (error) => retried.push(error) } });
      const run = await watched.execute("probe", "go", { session: s.session });
      const streamed = await collect(run.stream());
      expect(probe.executions(`fault:${point}`)).toBe(1);
      // The crash point comes right after an append, before the delivery window hands it to
      // the stream's read waiting in the object: that read died with the object, and was retried.
      expect(retried.map(String)).toContain(`Error: injected crash at ${point}`);
      expect(streamed.at(-1)?.kind).toBe("run.completed");
      // Every seq once, in order, and exactly the ledger the routes serve.
      expect(streamed.map((e) => e.seq)).toEqual(streamed.map((_, i) => i + 1));
      expect(streamed).toEqual(await s.events());
      expect(await run.result()).toMatchObject({ status: "completed" });
    });
  }
});

describe("a handle's answers are the HTTP doors' answers", () => {
  it("a superseded handle's stream yields only its own run, ending at its stop", async () => {
    const s = session("counter");
    const first = await runs.execute("counter", "quick one", { session: s.session });
    const own = await collect(first.stream());
    const second = await first.send("slow second");
    await second.result();
    expect(await collect(first.stream())).toEqual(own);
    // From its end offset (or anywhere past it), nothing: the second run is not its run.
    expect(await collect(first.stream({ offset: own.at(-1)?.offset }))).toEqual([]);
    const secondEvents = await collect(second.stream());
    expect(await collect(first.stream({ offset: secondEvents[1]?.offset }))).toEqual([]);
    // From before its end, the rest of its own events.
    expect(await collect(first.stream({ offset: own.at(-3)?.offset }))).toEqual(own.slice(-2));
  });

  it("resume(null) is the 400 that POST .../resume with body null is", async () => {
    const s = session("approver");
    const run = await runs.execute("approver", "pay", { session: s.session });
    await run.result();
    const http = await s.post("resume", "null");
    expect(http.status).toBe(400);
    const body = (await http.json()) as { error: { code: string } };
    const nil = null as unknown as ResumeBody;
    await expect(run.resume(nil)).rejects.toMatchObject({ status: 400, code: body.error.code });
    await expect(run.canResume(nil)).rejects.toMatchObject({ status: 400, code: body.error.code });
  });

  it("a before hook's refusal reaches the handle with the app's status, code and message", async () => {
    const run = await runs.execute("counter", "count");
    await run.result();
    const refusal = await run.send("forbidden words").catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DurableAgentsError);
    expect(refusal).toMatchObject({
      status: 422,
      code: "blocked_by_hook",
      message: "the beforeStart hook refused this message",
      details: { command: "start", hookStatus: 422 },
    });
  });

  it("a missing or ill-typed binding is a configuration error at once, naming where to set it", () => {
    for (const bindings of [env, { ...env, NOPE: "not a namespace" }]) {
      expect(() => agentRuns(bindings, { binding: "NOPE" })).toThrow(
        expect.objectContaining({
          code: "binding_missing",
          message: expect.stringMatching(/wrangler\.jsonc.*agentRuns\(env, \{ binding \}\)/),
        }),
      );
    }
  });

  it("refusals across the RPC are the subclasses thrown locally (instanceof works)", async () => {
    probe.close("slow_echo");
    const busy = await runs.execute("probe", "go");
    const conflict = await busy.send("again").catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ code: "run_active", status: 409 });
    const bad = await busy
      .resume({ mode: "sideways" } as unknown as ResumeBody)
      .catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(BadRequestError);
    probe.open("slow_echo");
    await busy.result();
    await expect(runs.execute("ghost", "hi")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("messages speak to handle callers too: a failed run names resume from_checkpoint, ids must be strings", async () => {
    const s = session("counter");
    const run = await runs.execute("counter", `fail once ${s.session}`, { session: s.session });
    await run.result().catch(() => undefined);
    const check = await run.canResume();
    expect(check).toMatchObject({ canResume: false, code: "run_failed" });
    if (!check.canResume) expect(check.reason).toContain('resume({ mode: "from_checkpoint"');
    expect(() => runs.getHandle("counter", 42 as unknown as string)).toThrow(
      expect.objectContaining({
        code: "invalid_path",
        message: expect.stringContaining("the session id must be a string"),
      }),
    );
  });
});

describe("a resume that decides nothing on a run waiting for decisions is refused", () => {
  it("resume({}) and resume({ approvals: [] }) are 409 at both doors, canResume says why, the ledger stays", async () => {
    const s = session("approver");
    const run = await runs.execute("approver", "pay", { session: s.session });
    const waiting = await run.result();
    if (waiting.status !== "waiting") throw new Error("not waiting");
    const ids = waiting.pending.map((p) => p.callId);
    const tail = (await s.events()).length;
    for (const body of [{}, { approvals: [] }, { mode: "continue" as const }]) {
      const check = await run.canResume(body);
      expect(check).toMatchObject({ canResume: false, code: "decisions_pending" });
      if (!check.canResume) for (const id of ids) expect(check.reason).toContain(id);
      await expect(run.resume(body)).rejects.toMatchObject({
        status: 409,
        code: "decisions_pending",
        details: { pending: ids },
      });
      const http = await s.post("resume", body);
      expect(http.status).toBe(409);
      expect(await http.json()).toMatchObject({ error: { code: "decisions_pending" } });
    }
    expect(await s.events()).toHaveLength(tail);
    // Deciding them still resumes the run.
    await run.resume({ approvals: ids.map((callId) => ({ callId, approved: true })) });
    expect(await run.result()).toMatchObject({ status: "completed" });
  });
});
