/**
 * Review A (attack): "an interrupt is a pause" for a tool's Workflow call (docs/api.md, Tools on
 * Cloudflare Workflows; guarantees.md G12). The call stays `delegated` while the run is
 * interrupted. What every way out of that interrupted state does with the still-open call.
 */
import { env, introspectWorkflow } from "cloudflare:test";
import type { LedgerEvent, ToolWorkflowParams } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import type { SessionPeerStub } from "../src/agent-object/session-peers.ts";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

let introspector: Awaited<ReturnType<typeof introspectWorkflow>> | undefined;
async function watchInstances() {
  introspector = await introspectWorkflow(env.TOOL_WORKFLOW);
  return introspector;
}
afterEach(async () => {
  probe.open("crunch");
  probe.reset();
  await introspector?.dispose();
  introspector = undefined;
});

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function firstCall(s: SessionHandle): Promise<ToolWorkflowParams> {
  const started = (await s.events()).find((e) => e.kind === "tool.started");
  if (started?.kind !== "tool.started") throw new Error("no tool.started yet");
  const { step, callId, name, args, idempotencyKey } = started.data;
  return {
    agent: s.agent,
    session: s.session,
    runId: started.runId as string,
    step,
    callId,
    tool: name,
    args,
    idempotencyKey,
  };
}

async function crunchExecuting(): Promise<{ s: SessionHandle; call: ToolWorkflowParams }> {
  const s = session("workflower");
  probe.close("crunch");
  await s.post("runs", { input: { message: "crunch 21" } });
  await s.waitFor((e) => e.kind === "run.waiting", 20_000);
  const call = await firstCall(s);
  const until = Date.now() + 20_000;
  while (probe.executions(`crunch:${call.idempotencyKey}`) === 0 && Date.now() < until)
    await sleep(20);
  return { s, call };
}

const compact = (events: readonly LedgerEvent[]) =>
  events
    .filter((e) => !e.kind.startsWith("text.") && !e.kind.startsWith("usage"))
    .map((e) =>
      "step" in (e.data as object) ? `${e.kind}@${(e.data as { step: number }).step}` : e.kind,
    );

describe("attack: interrupt, then resume with a message while the Workflow call is open", () => {
  it("the open call of the paused step is either waited for or ended; the model is never told its outcome is unknown while it runs", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    // The user adds a message instead of `continue` (what a chat does after a stop).
    const resumed = await s.post("resume", { mode: "with_message", message: "crunch 21 please" });
    expect(resumed.status).toBe(202);
    await s.waitFor((e) => e.kind === "run.resumed", 20_000);
    // Give the resumed run time to call the model again.
    await sleep(1_500);
    const prompt = JSON.stringify(await s.messages());
    probe.open("crunch");
    await s.waitFor(ended, 20_000).catch(() => undefined);
    await sleep(1_500);
    const events = await s.events();
    console.log("LEDGER", compact(events).join(" "));
    console.log("INSTANCES", (await workflows.get()).length);
    console.log("EXECUTIONS first call", probe.executions(`crunch:${call.idempotencyKey}`));
    const results = events.filter((e) => e.kind === "tool.completed" || e.kind === "tool.failed");
    console.log("RESULTS", JSON.stringify(results.map((e) => [e.kind, e.data])));
    console.log("MESSAGES", prompt.slice(0, 3000));
    // Seen: the model's step 2 got step 1's call as a "pending" tool result, which prompt.ts
    // gives the model as "the outcome of this call is unknown" while the instance still runs;
    // it called crunch again (a second instance and execution for the user's one request), and
    // step 1's result was later written into step 1, after the model had moved on without it.
    // docs/api.md: "the resumed run continues with it (resumed before the result, the run
    // waits for it again)"; guarantees.md G12: an interrupt is a pause.
    // The rule (docs/api.md, POST resume): a resume that starts a new step settles the calls
    // still delegated in its own append (tool.failed, code `superseded`), so the model is told
    // the call was left behind, not that its outcome is unknown. The user's new message asks
    // for crunch again, so a second instance is the model's fresh call; step 1's late result
    // records nothing.
    const step1 = (
      JSON.parse(prompt) as { id: string; parts: { status?: string; error?: { code: string } }[] }[]
    ).find((m) => m.id === `${call.runId}:${call.step}:t`);
    expect(step1?.parts[0]?.status, "step 1's call when step 2's model call ran").toBe("failed");
    expect(step1?.parts[0]?.error?.code).toBe("superseded");
    const step1Results = results.filter(
      (e) => (e.data as { step: number; callId: string }).step === call.step,
    );
    expect(
      step1Results.map((e) => [e.kind, (e.data as { error?: { code: string } }).error?.code]),
    ).toEqual([["tool.failed", "superseded"]]);
    expect(events.findIndex((e) => e.kind === "tool.failed")).toBeLessThan(
      events.findIndex((e) => e.kind === "run.resumed"),
    );
  });

  it("from_checkpoint (the run's start) while the call is open: the old instance's result does not land in the rewound step", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    const checkpoints = (await (await s.get("checkpoints")).json()) as {
      checkpoints: { id: string }[];
    };
    const start = checkpoints.checkpoints[0]?.id;
    const resumed = await s.post("resume", { mode: "from_checkpoint", checkpoint: start });
    expect(resumed.status).toBe(202);
    await sleep(1_500);
    probe.open("crunch");
    await s.waitFor(ended, 20_000).catch(() => undefined);
    await sleep(1_500);
    const events = await s.events();
    console.log("LEDGER-CP", compact(events).join(" "));
    console.log("INSTANCES-CP", (await workflows.get()).length);
    const resumedAt = events.find((e) => e.kind === "run.resumed")?.seq ?? 0;
    const late = events.filter(
      (e) =>
        e.seq > resumedAt &&
        (e.kind === "tool.completed" || e.kind === "tool.failed") &&
        (e.data as { step: number }).step === call.step,
    );
    console.log("LATE-CP", JSON.stringify(late.map((e) => [e.kind, e.data])));
    expect(late, "a rewound step's call gets a result after the rewind").toEqual([]);
  });
});

describe("attack: interrupt, then end the run for good while the Workflow call is open", () => {
  for (const [name, end] of [
    ["close", (s: SessionHandle) => s.post("close", { reason: "bye" })],
    ["abort", (s: SessionHandle) => s.post("abort", { reason: "bye" })],
    ["a new run", (s: SessionHandle) => s.post("runs", { input: { message: "explode" } })],
  ] as const) {
    it(`${name}: the call fails once and the late result adds nothing`, async () => {
      const workflows = await watchInstances();
      const { s, call } = await crunchExecuting();
      expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
      await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
      const response = await end(s);
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      const before = (await s.events()).filter((e) => e.runId === call.runId);
      probe.open("crunch");
      await (await workflows.get())[0]?.waitForStatus("complete");
      await sleep(1_500);
      const after = (await s.events()).filter((e) => e.runId === call.runId);
      console.log(`END-${name}`, compact(after).join(" "));
      expect(after.length).toBe(before.length);
      const results = after.filter(
        (e) =>
          (e.kind === "tool.completed" || e.kind === "tool.failed") &&
          (e.data as { callId: string }).callId === call.callId &&
          (e.data as { step: number }).step === call.step,
      );
      expect(results).toHaveLength(1);
      expect(results[0]?.kind).toBe("tool.failed");
    });
  }
});

describe("attack: two pauses and a failing instance", () => {
  it("interrupt, resume (continue) before the result, interrupt again, result, resume: one result, one execution", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "one" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    expect((await s.post("resume", { mode: "continue" })).ok).toBe(true);
    // The resumed run waits again (phase tools, the call delegated).
    const until = Date.now() + 20_000;
    while ((await s.status()).status !== "waiting" && Date.now() < until) await sleep(20);
    expect((await s.status()).status).toBe("waiting");
    expect((await s.post("interrupt", { reason: "two" })).ok).toBe(true);
    // A second interrupt of an interrupted run is a 409.
    expect((await s.post("interrupt", { reason: "three" })).status).toBe(409);
    probe.open("crunch");
    await s.waitFor((e) => e.kind === "tool.completed", 20_000);
    expect((await s.status()).status).toBe("interrupted");
    expect((await s.post("resume", { mode: "continue" })).ok).toBe(true);
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
    const events = await s.events();
    console.log("TWO", compact(events).join(" "));
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "tool.failed")).toEqual([]);
    expect(await workflows.get()).toHaveLength(1);
    expect(probe.executions(`crunch:${call.idempotencyKey}`)).toBe(1);
  });

  it("an instance that fails while the run is interrupted: tool.failed recorded, the resumed run answers with it", async () => {
    await watchInstances();
    // The instance fails only once the run is interrupted: without the gate it could fail
    // before the interrupt arrived (seen under CI's load), and the run would end first.
    probe.close("explode");
    const s = session("workflower");
    await s.post("runs", { input: { message: "explode" } });
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    probe.open("explode");
    await s.waitFor((e) => e.kind === "tool.failed", 20_000);
    expect((await s.status()).status).toBe("interrupted");
    expect((await s.post("resume", { mode: "continue" })).ok).toBe(true);
    const end = await s.waitFor(ended, 20_000);
    console.log("EXPLODE", compact(await s.events()).join(" "));
    expect(end.kind).toBe("run.completed");
  });
});

describe("attack: the open call left behind by a resume with a message", () => {
  it("a run that completes while its paused step's Workflow call is still open settles that call (G12)", async () => {
    const workflows = await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    // "explode" makes the model call a tool that fails at once, then answer: the run completes
    // while crunch (step 1) is still held at its gate.
    expect((await s.post("resume", { mode: "with_message", message: "explode" })).status).toBe(202);
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
    probe.open("crunch");
    const first = (await workflows.get()).find(() => true);
    await first?.waitForStatus("complete");
    await sleep(1_500);
    const events = await s.events();
    console.log("LEFT", compact(events).join(" "));
    const messages = await s.messages();
    console.log("LEFT-MESSAGES", JSON.stringify(messages.filter((m) => m.role === "tool")));
    const settled = events.filter(
      (e) =>
        (e.kind === "tool.completed" || e.kind === "tool.failed") &&
        (e.data as { step: number; callId: string }).step === call.step &&
        (e.data as { callId: string }).callId === call.callId,
    );
    // Expected: the completed run's call has an outcome; seen: it stays `delegated` (a "pending"
    // tool result for ever) and the instance's result is dropped.
    expect(settled).toHaveLength(1);
  });

  it("from_checkpoint: the ui-stream of the rewound run carries no output for a call whose input was rewound", async () => {
    await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    const checkpoints = (await (await s.get("checkpoints")).json()) as {
      checkpoints: { id: string }[];
    };
    await s.post("resume", { mode: "from_checkpoint", checkpoint: checkpoints.checkpoints[0]?.id });
    await sleep(1_000);
    probe.open("crunch");
    await s.waitFor(ended, 20_000);
    const body = await (await s.get("ui-stream", "offset=-1")).text();
    console.log("UI-STREAM", body.slice(0, 6000));
    console.log("CHAT-HISTORY", (await (await s.get("chat-history")).text()).slice(0, 4000));
    const chunks = body
      .split("\n")
      .filter((l) => l.startsWith("data: ") && l !== "data: [DONE]")
      .map((l) => JSON.parse(l.slice(6)) as { type: string; toolCallId?: string });
    // The rewound step's instance still answers after the rewind: its tool-output-available is
    // sent too. With the scripted model the new call reuses the rewound call's id (call_0_0),
    // so a client shows the old instance's output as the new call's; with a real provider's
    // fresh id it is an output for a call the stream never opened, which ai's
    // processUIMessageStream refuses ("No tool invocation found for tool call ID").
    const outputs = chunks.filter((c) => c.type === "tool-output-available");
    expect(outputs, `${call.callId}: one output per call the stream shows`).toHaveLength(1);
  });
});

describe("attack: a late result of the paused step while the run waits on a newer step", () => {
  it("resumes no run that still waits on another delegated call (architecture.md, receiveToolResult)", async () => {
    await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("interrupt", { reason: "pause" })).ok).toBe(true);
    await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    expect((await s.post("resume", { message: "crunch 21 please" })).status).toBe(202);
    // Step 2 calls crunch again; its instance is held at the same gate: the run waits on it.
    await s.waitFor((e) => e.kind === "workflow.started" && e.data.step > call.step, 20_000);
    const until = Date.now() + 20_000;
    while ((await s.status()).status !== "waiting" && Date.now() < until) await sleep(20);
    const before = (await s.events()).length;
    // Step 1's instance reports (what its report step does when the gate opens).
    const stub = s.stub() as unknown as SessionPeerStub;
    await stub.receiveToolResult({ call, outcome: { type: "completed", result: { total: 42 } } });
    await sleep(1_000);
    const after = (await s.events()).slice(before);
    console.log("LATE-STEP1", compact(after).join(" "));
    expect((await s.status()).status).toBe("waiting");
    // Seen: tool.completed@1, then run.resumed and run.waiting again (the run was woken for a
    // call of a step it had left, while step 2's call still runs).
    expect(after.map((e) => e.kind)).not.toContain("run.resumed");
  });
});

describe("attack (same root, reachable without an interrupt): resume with a message of a run waiting on its Workflow call", () => {
  it("a waiting run resumed with a message and completed settles its open Workflow call", async () => {
    await watchInstances();
    const { s, call } = await crunchExecuting();
    expect((await s.post("resume", { message: "explode" })).status).toBe(202);
    expect((await s.waitFor(ended, 20_000)).kind).toBe("run.completed");
    const settled = (await s.events()).filter(
      (e) =>
        (e.kind === "tool.completed" || e.kind === "tool.failed") &&
        (e.data as { step: number }).step === call.step,
    );
    expect(settled).toHaveLength(1);
  });
});
