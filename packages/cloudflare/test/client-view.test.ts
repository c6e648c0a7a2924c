/**
 * The client's view reducer against real ledgers: real sessions driven over
 * HTTP in workerd (interrupt → resume, approvals, retry, fork, application
 * state, sub-agents, close), their ledgers read from `GET .../events` and
 * folded with `@durable-agents/client/view`, and the view compared with the
 * server's own `status`, `messages` and `state` at moments when the ledger
 * is still.
 */
import { EMPTY_VIEW, reduceView, type SessionView } from "@durable-agents/client/view";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session } from "./support/session.ts";

afterEach(() => probe.reset());

interface Snapshot {
  readonly view: SessionView;
  readonly status: { status: string; runId: string | null; offset: string; closed: boolean };
}

/**
 * Folds the whole ledger and checks the view against the server's projections.
 * Reads status before and after the others and tries again until nothing moved in between.
 */
async function agree(s: SessionHandle): Promise<Snapshot> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const before = (await s.status()) as Snapshot["status"];
    const events = await s.events();
    const messages = await s.messages();
    const state = (await (await s.get("state")).json()) as { state: unknown; version: number };
    const after = (await s.status()) as Snapshot["status"];
    if (before.offset !== after.offset || (events.at(-1)?.offset ?? before.offset) !== after.offset)
      continue;
    // The client folds what the wire carries: JSON, as a browser receives it.
    const view = events.reduce(reduceView, EMPTY_VIEW);
    expect({
      status: view.status,
      runId: view.runId,
      closed: view.closed,
      offset: events.length === 0 ? after.offset : view.offset,
    }).toEqual({
      status: after.status,
      runId: after.runId,
      closed: after.closed,
      offset: after.offset,
    });
    expect(
      view.messages
        .filter((m) => m.parts.length > 0)
        .map(({ id, runId, role, parts }) => ({ id, runId, role, parts })),
    ).toEqual(messages.map(({ id, runId, role, parts }) => ({ id, runId, role, parts })));
    if (view.stateVersion > 0) {
      expect({ state: view.state, version: view.stateVersion }).toEqual({
        state: state.state,
        version: state.version,
      });
    } else expect(state.version).toBe(0);
    return { view, status: after };
  }
  throw new Error(`the ledger of ${s.agent}/${s.session} never stood still`);
}

/** A probe run interrupted after its first step; slow_echo's gate is closed again for what follows. */
async function interrupted(): Promise<SessionHandle> {
  const s = session("probe");
  probe.close("slow_echo");
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor((e) => e.kind === "tool.started");
  expect((await s.post("interrupt", { reason: "stop here" })).status).toBe(202);
  probe.open("slow_echo");
  await s.waitFor((e) => e.kind === "run.interrupted");
  const { view } = await agree(s);
  expect(view.status).toBe("interrupted");
  probe.close("slow_echo");
  return s;
}

/** Waits until the run that a resume moved is blocked in slow_echo again (the ledger is still). */
async function blockedAfter(s: SessionHandle, seq: number): Promise<void> {
  await s.waitFor((e) => e.kind === "tool.started" && e.seq > seq);
}

const tailSeq = async (s: SessionHandle) => (await s.events()).at(-1)?.seq ?? 0;

describe("the client's view agrees with the server on real ledgers", () => {
  it("interrupt, then resume (continue): the view says running, then completed", async () => {
    const s = await interrupted();
    const seq = await tailSeq(s);
    expect((await s.post("resume", { mode: "continue" })).status).toBe(202);
    await blockedAfter(s, seq);
    expect((await agree(s)).view.status).toBe("running");
    probe.open("slow_echo");
    await s.waitFor((e) => e.kind === "run.completed");
    expect((await agree(s)).view.status).toBe("completed");
  });

  it("a start with seed state and prior messages, then a resume that adds messages: the view agrees", async () => {
    const s = session("counter");
    const started = await s.post("runs", {
      input: {
        message: "count",
        state: { count: 5 },
        messages: [
          { role: "user", content: "before" },
          { role: "assistant", content: "noted" },
        ],
      },
      metadata: { from: "client-view" },
    });
    expect(started.status).toBe(202);
    await s.waitFor(isTerminal);
    const { view } = await agree(s);
    expect(view.messages.slice(0, 3).map((m) => m.id.split(".").length)).toEqual([2, 2, 1]);
    expect(view.state).toEqual({ count: 16 });

    const p = await interrupted();
    const seq = await tailSeq(p);
    const resumed = await p.post("resume", {
      mode: "with_message",
      messages: [{ role: "assistant", content: "where was I" }],
    });
    expect(resumed.status).toBe(202);
    probe.open("slow_echo");
    await p.waitFor((e) => e.kind === "run.completed");
    expect((await agree(p)).view.messages.some((m) => m.id === `m${seq + 1}.0`)).toBe(true);
  });

  it("resume with a message: the message shows as the user's, and the run goes on", async () => {
    const s = await interrupted();
    const seq = await tailSeq(s);
    const resumed = await s.post("resume", { mode: "with_message", message: "and then?" });
    expect(resumed.status).toBe(202);
    await blockedAfter(s, seq);
    const { view } = await agree(s);
    expect(view.status).toBe("running");
    expect(view.messages.filter((m) => m.role === "user").map((m) => m.parts)).toEqual([
      [{ type: "text", text: "go" }],
      [{ type: "text", text: "and then?" }],
    ]);
    probe.open("slow_echo");
    await s.waitFor((e) => e.kind === "run.completed");
    await agree(s);
  });

  it("resume from the start checkpoint with a message: what the run said after it goes", async () => {
    const s = await interrupted();
    const seq = await tailSeq(s);
    const resumed = await s.post("resume", {
      mode: "from_checkpoint",
      checkpoint: "1",
      message: "start over",
    });
    expect(resumed.status).toBe(202);
    await blockedAfter(s, seq);
    const { view } = await agree(s);
    expect(view.messages.filter((m) => m.parts.length > 0).map((m) => m.role)).toEqual([
      "user",
      "user",
      "assistant",
      "tool",
    ]);
    probe.open("slow_echo");
    await s.waitFor((e) => e.kind === "run.completed");
    await agree(s);
  });

  it("approvals: two wait, one is approved with edited arguments, one denied", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay them" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const waiting = (await agree(s)).view;
    expect(waiting.status).toBe("waiting");
    const [first, second] = waiting.pendingApprovals.map((a) => a.callId);
    expect(waiting.pendingApprovals).toHaveLength(2);

    await s.post("resume", {
      approvals: [{ callId: first, approved: true, args: { amount: 15 } }],
    });
    const half = (await agree(s)).view;
    expect(half.status).toBe("waiting");
    expect(half.pendingApprovals.map((a) => a.callId)).toEqual([second]);

    await s.post("resume", { approvals: [{ callId: second, approved: false, reason: "no" }] });
    await s.waitFor((e) => e.kind === "run.completed");
    const done = (await agree(s)).view;
    expect(done.pendingApprovals).toEqual([]);
    expect(done.messages.flatMap((m) => m.parts).filter((p) => p.type === "tool-call")).toEqual([
      expect.objectContaining({ callId: first, args: { amount: 15 } }),
      expect.objectContaining({ callId: second, args: { amount: 20 } }),
    ]);
  });

  it("application state, a failed run, its retry, and a fork that is resumed", async () => {
    const s = session("counter");
    await s.post("runs", { input: { message: `fail once ${s.session}` } });
    await s.waitFor((e) => e.kind === "run.failed");
    const failed = (await agree(s)).view;
    expect(failed).toMatchObject({ status: "failed", state: { count: 11 }, stateVersion: 2 });

    expect((await s.post("retry", { mode: "from_checkpoint" })).status).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed");
    const completed = (await agree(s)).view;
    expect(completed.status).toBe("completed");

    const put = await s.fetch(s.url("state"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        state: { count: 1, label: "set by hand" },
        expectedVersion: completed.stateVersion,
      }),
    });
    expect(put.status).toBe(200);
    expect((await agree(s)).view.state).toEqual({ count: 1, label: "set by hand" });

    const { checkpoints } = (await (await s.get("checkpoints")).json()) as {
      checkpoints: { id: string; step: number }[];
    };
    const atStep1 = checkpoints.find((c) => c.step === 1)?.id;
    // Into a session the server names: a token for the source may (docs/api.md#auth).
    const forked = await s.post("fork", { checkpoint: atStep1 });
    expect(forked.status).toBe(201);
    const target = ((await forked.json()) as { session: string }).session;
    const fork = session("counter", target);
    expect((await agree(fork)).view).toMatchObject({ status: "interrupted", stateVersion: 1 });
    expect((await fork.post("resume", { mode: "continue" })).status).toBe(202);
    await fork.waitFor((e) => e.kind === "run.completed");
    expect((await agree(fork)).view.status).toBe("completed");
  });

  it("sub-agents: the parent's view lists its children, and each child's view agrees too", async () => {
    const parent = session("lead");
    await parent.post("runs", { input: { message: "compare otters and beavers" } });
    await parent.waitFor((e) => e.kind === "run.completed", 20_000);
    const { view } = await agree(parent);
    expect(view.subagents).toHaveLength(2);
    for (const child of view.subagents) {
      expect(child).toMatchObject({ agent: "researcher", done: true });
      expect((await agree(session("researcher", child.session))).view.status).toBe("completed");
    }
  });

  it("close: the view says closed, as the status does", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    expect((await s.post("close", { reason: "done" })).status).toBe(200);
    expect((await agree(s)).view).toMatchObject({ status: "completed", closed: true });
  });
});
