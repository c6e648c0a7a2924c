/**
 * A tool ran, and the commit of its result failed (a storage error, a projection that throws):
 * the step's `run.step` work is retried (pump.ts), and the retry redrives the step from the
 * ledger exactly as a fresh object after a crash would (step-machine.ts, docs/guarantees.md
 * G3): a `started` call with no result runs again only if it is pure or idempotent, with the
 * same idempotency key; an irreversible one becomes `tool.outcome_unknown` and never runs
 * again. A commit that fails every time fails the run after the retries, every event kept.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { AnyTool } from "../src/agent/define-tool.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import type { ToolEffect } from "../src/ledger/events.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";

/** A tool of `effect` whose result's commit fails `failures` times (its staged write throws). */
function flakyCommit(effect: ToolEffect, failures: number, ran: string[], name = "act") {
  let left = failures;
  return defineTool({
    name,
    description: "Does something, and stages a write that commits with its result",
    input: z.object({ n: z.number() }),
    effect,
    execute: ({ n }, ctx) => {
      ran.push(ctx.idempotencyKey);
      ctx.transaction(() => {
        if (left-- > 0) throw new Error("disk I/O error (simulated)");
      });
      return { done: n };
    },
  });
}

/** One step calling each of `calls` once, then the answer. */
function agentCalling(tools: AnyTool[]) {
  return defineAgent({
    name: "commits",
    system: "test",
    tools,
    model: scriptedModel({
      rules: [
        ({ turn }) =>
          turn === 0
            ? { toolCalls: tools.map((t, i) => ({ name: t.name, args: { n: i } })) }
            : { text: "done" },
      ],
    }),
  });
}

/** Drains, then moves the clock past each retry's backoff, until nothing more is due. */
async function settle(s: TestSession): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await s.drain();
    const at = s.wakeAt();
    if (at === null || at <= s.clock.now()) return;
    s.clock.advance(at - s.clock.now());
  }
}

const kinds = (s: TestSession) => s.runtime.ledger.read(0).map((e) => e.kind);

describe("a tool's result that fails to commit", () => {
  it("irreversible: the retry writes tool.outcome_unknown and never runs the call again", async () => {
    const ran: string[] = [];
    const s = createTestSession(agentCalling([flakyCommit("irreversible", 1, ran)]));
    await s.runtime.start({ message: "go" });
    await settle(s);
    expect(ran).toEqual(["s1/run_1/1/call_0_0"]);
    expect(latestRun(s.sql)).toMatchObject({ status: "waiting", waitingReason: "outcome_unknown" });
    const all = kinds(s);
    expect(all.filter((k) => k === "tool.started")).toHaveLength(1);
    expect(all.filter((k) => k === "tool.outcome_unknown")).toHaveLength(1);
    expect(all).not.toContain("tool.completed");
  });

  it("idempotent: the retry runs the call again with the same idempotency key, one result", async () => {
    const ran: string[] = [];
    const s = createTestSession(agentCalling([flakyCommit("idempotent", 1, ran)]));
    await s.runtime.start({ message: "go" });
    await settle(s);
    expect(ran).toEqual(["s1/run_1/1/call_0_0", "s1/run_1/1/call_0_0"]);
    expect(latestRun(s.sql)?.status).toBe("completed");
    const all = kinds(s);
    expect(all.filter((k) => k === "tool.started")).toHaveLength(1);
    expect(all.filter((k) => k === "tool.completed")).toHaveLength(1);
  });

  it("a commit that fails every time fails the run after the retries, every event kept", async () => {
    const ran: string[] = [];
    const s = createTestSession(agentCalling([flakyCommit("idempotent", Infinity, ran)]));
    await s.runtime.start({ message: "go" });
    await settle(s);
    const run = latestRun(s.sql);
    expect(run?.status).toBe("failed");
    const events = s.runtime.ledger.read(0);
    const failed = events.find((e) => e.kind === "run.failed");
    expect(failed?.data).toEqual({
      error: {
        code: "tool_result_not_recorded",
        message:
          "tool act ran (step 1, call call_0_0) but its result could not be recorded: disk I/O error (simulated); check the tool's ctx.transaction writes (they commit with its result) and the session's storage, then retry the run",
      },
    });
    // Nothing committed before the failures is lost: the user's message, the model's step, the start.
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["run.started", "model.completed", "tool.started"]),
    );
    expect(ran.length).toBe(5);
    expect(new Set(ran)).toEqual(new Set(["s1/run_1/1/call_0_0"]));
  });

  it.each<ToolEffect>(["irreversible", "idempotent"])(
    "another %s call of the step still running is not redriven under it: it runs once, its result kept",
    async (effect) => {
      const ran: string[] = [];
      let finish = () => {};
      const landed = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const slow = defineTool({
        name: "charge",
        description: "Charges a card; takes a while",
        input: z.object({ n: z.number() }),
        effect,
        execute: async (_input, ctx) => {
          ran.push(`charge ${ctx.idempotencyKey}`);
          await landed;
          return { charged: true };
        },
      });
      const quick = flakyCommit("idempotent", 1, ran, "note");
      const s = createTestSession(agentCalling([quick, slow]));
      await s.runtime.start({ message: "go" });
      // The note's commit fails while the charge still runs; the retry's backoff (not the
      // lease) passes, and the object's alarm fires again before the charge lands.
      const first = s.runtime.alarm();
      await new Promise((r) => setTimeout(r, 20));
      s.clock.advance(5_000);
      const again = s.drain();
      await new Promise((r) => setTimeout(r, 20));
      finish();
      await Promise.all([first, again]);
      await settle(s);
      expect(ran.filter((r) => r.startsWith("charge"))).toHaveLength(1);
      const events = s.runtime.ledger.read(0);
      const charge = events.filter(
        (e) => e.kind.startsWith("tool.") && (e.data as { name?: string }).name === "charge",
      );
      expect(charge.map((e) => e.kind)).toEqual(["tool.started", "tool.completed"]);
      expect(latestRun(s.sql)?.status).toBe("completed");
    },
  );
});
