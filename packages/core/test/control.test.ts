import type { LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it, vi } from "vitest";
import * as z from "zod";
import { dispatchCommand } from "../src/commands/dispatch.ts";
import { resumeInput, retryInput } from "../src/commands/run-commands.ts";
import {
  defineAgent,
  defineTool,
  latestRun,
  listCheckpoints,
  listMessages,
  scriptedModel,
  stepToolCalls,
  TerminalError,
} from "../src/index.ts";
import { serveStoreCall } from "../src/store/store-call.ts";
import { createTestSession, ManualClock } from "../src/testing/index.ts";
import { trustedCall } from "./fixtures.ts";

const effects: string[] = [];

const transfer = defineTool({
  name: "transfer",
  description: "Moves money. Needs a human.",
  input: z.object({ amount: z.number().max(1000) }),
  effect: "irreversible",
  needsApproval: true,
  execute: ({ amount }, ctx) => {
    effects.push(`${ctx.idempotencyKey}:${amount}`);
    return { sent: amount };
  },
});

const lookup = defineTool({
  name: "lookup",
  description: "Reads a balance.",
  input: z.object({}),
  effect: "pure",
  execute: () => ({ balance: 500 }),
});

const banker = defineAgent({
  name: "banker",
  system: "",
  tools: [transfer, lookup],
  model: scriptedModel({
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? {
              text: "Sending.",
              toolCalls: [
                { name: "transfer", args: { amount: 10 } },
                { name: "transfer", args: { amount: 20 } },
              ],
            }
          : { text: `Done: ${JSON.stringify(toolResults.map((r) => r.output))}` },
    ],
  }),
});

describe("approvals", () => {
  it("pauses for two approvals in one step, needs both answers, and survives a restart and days", async () => {
    effects.length = 0;
    const s = createTestSession(banker);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    const calls = stepToolCalls(s.sql, "run_1", 1);
    expect(calls.map((c) => c.status)).toEqual(["awaiting_approval", "awaiting_approval"]);

    // Three days later, in a fresh object: one answer is not enough.
    s.clock.advance(3 * 24 * 3600_000);
    const later = s.restart();
    await later.runtime.resume({
      approvals: [{ callId: "call_0_0", approved: true, args: { amount: 15 } }],
    });
    await later.drain();
    expect(latestRun(s.sql)?.status).toBe("waiting");
    expect(effects).toEqual([]);

    await later.runtime.resume({
      approvals: [{ callId: "call_0_1", approved: false, reason: "too much" }],
    });
    await later.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(effects).toEqual(["s1/run_1/1/call_0_0:15"]);
    const toolMessage = listMessages(s.sql, 0, 50).find((m) => m.role === "tool");
    expect(toolMessage?.parts).toMatchObject([
      { status: "completed", result: { sent: 15 } },
      { status: "failed", error: { code: "denied" } },
    ]);
  });

  it("refuses an approval of an unknown call, and edited arguments that break the schema", async () => {
    const s = createTestSession(banker);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    const tail = s.runtime.ledger.tail;
    await expect(
      s.runtime.resume({ approvals: [{ callId: "nope", approved: true }] }),
    ).rejects.toMatchObject({
      status: 404,
      code: "unknown_call",
    });
    await expect(
      s.runtime.resume({
        approvals: [{ callId: "call_0_0", approved: true, args: { amount: 5000 } }],
      }),
    ).rejects.toMatchObject({ status: 400, code: "invalid_tool_args" });
    expect(s.runtime.ledger.tail).toBe(tail);
  });
});

describe("a needsApproval rule that throws", () => {
  it("asks the human: the call waits for an approval and does not run", async () => {
    const ran: number[] = [];
    const guarded = defineTool({
      name: "guarded",
      description: "Moves money when a rule allows it.",
      input: z.object({ amount: z.number() }),
      effect: "irreversible",
      needsApproval: ({ amount }) => {
        if (amount > 0) throw new Error("the limits service is down");
        return false;
      },
      execute: ({ amount }) => {
        ran.push(amount);
        return { sent: amount };
      },
    });
    const agent = defineAgent({
      name: "guarded",
      system: "",
      tools: [guarded],
      model: scriptedModel({
        rules: [
          ({ turn }) =>
            turn === 0
              ? { toolCalls: [{ name: "guarded", args: { amount: 10 } }] }
              : { text: "done" },
        ],
      }),
    });
    const s = createTestSession(agent);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "approval" });
    expect(stepToolCalls(s.sql, "run_1", 1).map((c) => c.status)).toEqual(["awaiting_approval"]);
    expect(ran).toEqual([]);
    await s.runtime.resume({ approvals: [{ callId: "call_0_0", approved: true }] });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(ran).toEqual([10]);
  });
});

describe("irreversible tools", () => {
  it("after a crash between tool.started and its result, writes outcome_unknown and waits for a human", async () => {
    effects.length = 0;
    // The object dies after the transfers ran but before their results commit: it never comes back.
    const s = createTestSession(banker, {
      faults: (point) => (point === "before-tool-commit" ? new Promise<void>(() => {}) : undefined),
    });
    await s.runtime.start({ message: "pay" });
    await s.drain();
    await s.runtime.resume({
      approvals: [
        { callId: "call_0_0", approved: true },
        { callId: "call_0_1", approved: true },
      ],
    });
    void s.runtime.alarm();
    await new Promise((r) => setTimeout(r, 20));
    expect(effects).toHaveLength(2);

    // A fresh object, after the dead one's lease ran out, redrives the step.
    const fresh = s.restart({ clock: new ManualClock(s.clock.now() + 60_000), faults: undefined });
    await fresh.runtime.alarm();
    await fresh.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "outcome_unknown" });
    const kinds = fresh.runtime.ledger.read(0).map((e) => e.kind);
    expect(kinds.filter((k) => k === "tool.outcome_unknown")).toHaveLength(2);
    expect(effects).toHaveLength(2);

    // A human checked: the first went through, the second did not and should not be retried.
    await fresh.runtime.resume({
      approvals: [
        { callId: "call_0_0", approved: true, result: { sent: 10 } },
        { callId: "call_0_1", approved: false, reason: "checked the bank: not sent" },
      ],
    });
    await fresh.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(effects).toHaveLength(2);
  });
});

describe("resume and retry", () => {
  it("resume of a completed run is a 409 and writes nothing", async () => {
    const s = createTestSession(
      defineAgent({ name: "a", system: "", model: scriptedModel({ turns: [{ text: "hi" }] }) }),
    );
    await s.runtime.start({ message: "x" });
    await s.drain();
    const tail = s.runtime.ledger.tail;
    await expect(s.runtime.resume({ mode: "continue" })).rejects.toMatchObject({
      status: 409,
      code: "run_not_resumable",
    });
    expect(s.runtime.ledger.tail).toBe(tail);
  });

  it("retries a failed run from its start, and from a checkpoint", async () => {
    let failures = 1;
    const base = scriptedModel({
      rules: [
        ({ turn }) =>
          turn === 0 ? { toolCalls: [{ name: "lookup", args: {} }] } : { text: "balance 500" },
      ],
    });
    const flaky: LanguageModelV4 = {
      ...base,
      doStream: async (options) => {
        const assistantTurns = options.prompt.filter((m) => m.role === "assistant").length;
        if (assistantTurns === 1 && failures-- > 0) throw new TerminalError("model_rejected", "no");
        return base.doStream(options);
      },
    };
    const s = createTestSession(
      defineAgent({ name: "b", system: "", tools: [lookup], model: flaky }),
    );
    await s.runtime.start({ message: "balance?" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "failed", error: { code: "model_rejected" } });
    await expect(s.runtime.resume({ mode: "continue" })).rejects.toMatchObject({
      code: "run_failed",
    });

    const checkpoints = listCheckpoints(s.sql, 0, 10);
    expect(checkpoints.map((c) => c.kind)).toEqual(["run.started", "step.completed"]);
    await s.runtime.retry({ mode: "from_checkpoint" });
    await s.drain();
    expect(latestRun(s.sql)).toMatchObject({ status: "completed", output: "balance 500" });
    const roles = listMessages(s.sql, 0, 50).map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("interrupt then resume with a message continues the same run with the new message", async () => {
    const s = createTestSession(banker);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    await s.runtime.interrupt("stop");
    expect(latestRun(s.sql)?.status).toBe("interrupted");
    // A with_message resume without a message is input: the resume command's schema refuses it
    // at the door (dispatchCommand), before the run's state, and nothing changes.
    await expect(
      dispatchCommand("resume", { mode: "with_message" }, trustedCall(s, "test")),
    ).rejects.toMatchObject({ status: 400 });
    expect(latestRun(s.sql)?.status).toBe("interrupted");
    // And so does the runtime's own resume, called directly (it checks with the same schema).
    const offset = s.runtime.status().offset;
    await expect(s.runtime.resume({ mode: "with_message" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    expect(() => s.runtime.canResume({ mode: "with_message" })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    await expect(s.runtime.resume({ mode: "from_checkpoint" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    await expect(s.runtime.retry({ mode: "from_start", checkpoint: "1" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    expect(s.runtime.status().offset).toBe(offset);
    expect(latestRun(s.sql)?.status).toBe("interrupted");
    await s.runtime.resume({ mode: "with_message", message: "never mind, just look up" });
    expect(latestRun(s.sql)?.status).toBe("running");
    const users = listMessages(s.sql, 0, 50).filter((m) => m.role === "user");
    expect(users).toHaveLength(2);
  });

  it("the door parses a resume's or a retry's input once; a direct call to the runtime parses it once too", async () => {
    const s = createTestSession(banker);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    await s.runtime.interrupt("stop");
    const resumes = vi.spyOn(resumeInput._zod, "run");
    const retries = vi.spyOn(retryInput._zod, "run");
    try {
      const call = trustedCall(s, "test");
      expect(await serveStoreCall({ op: "canResume", input: {} }, call)).toMatchObject({
        canResume: true,
      });
      expect(resumes).toHaveBeenCalledTimes(1);
      // The retry's input is checked before the run's state: a 409, parsed once.
      await expect(dispatchCommand("retry", {}, call)).rejects.toMatchObject({ status: 409 });
      expect(retries).toHaveBeenCalledTimes(1);
      resumes.mockClear();
      expect(s.runtime.canResume({})).toMatchObject({ canResume: true });
      expect(resumes).toHaveBeenCalledTimes(1);
      resumes.mockClear();
      await dispatchCommand("resume", { mode: "with_message", message: "go on" }, call);
      expect(resumes).toHaveBeenCalledTimes(1);
      expect(latestRun(s.sql)?.status).toBe("running");
    } finally {
      resumes.mockRestore();
      retries.mockRestore();
    }
  });

  it("interrupt answers the truth: a waiting run is interrupted at once; a running one is still running, with the interrupt requested, until its next boundary", async () => {
    const waiting = createTestSession(banker);
    await waiting.runtime.start({ message: "pay" });
    await waiting.drain();
    expect(waiting.runtime.status()).toMatchObject({
      status: "waiting",
      interruptRequested: false,
    });
    expect(await waiting.runtime.interrupt("stop")).toMatchObject({
      status: "interrupted",
      interruptRequested: false,
    });

    const running = createTestSession(banker, { sessionId: "s2" });
    await running.runtime.start({ message: "pay" });
    expect(await running.runtime.interrupt("stop")).toMatchObject({
      status: "running",
      interruptRequested: true,
    });
    await running.drain();
    expect(running.runtime.status()).toMatchObject({
      status: "interrupted",
      interruptRequested: false,
    });
    expect(running.runtime.ledger.read(0).at(-1)?.kind).toBe("run.interrupted");
  });

  it("resume from an unknown checkpoint is a 404", async () => {
    const s = createTestSession(banker);
    await s.runtime.start({ message: "pay" });
    await s.drain();
    await expect(
      s.runtime.resume({ mode: "from_checkpoint", checkpoint: "999" }),
    ).rejects.toMatchObject({
      status: 404,
      code: "unknown_checkpoint",
    });
  });
});
