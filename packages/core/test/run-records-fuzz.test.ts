/**
 * A randomized attack on the run driver's kept run records (run-records.ts): sequences of
 * commands (interrupt, abort, approve or deny with edited arguments, resume in every mode,
 * retry, regenerate, restart of the object) land between and inside actions (at the driver's
 * fault points), with crashes at those points and a trace sink that throws now and then (the
 * tracer loses that span and logs it: run-tracer.ts invariant 7; any append listener that
 * throws still lets the others see the batch: ledger.ts invariant 6, ledger.test.ts).
 * After every action and at every fault point, a `RunRecords` following the same ledger must
 * hold each followed run and its step calls exactly as their rows are; each prompt must be a
 * fresh read of the ledger (with odd seeds the idle budget holds nothing: every cache given to
 * it is dropped, and the next step must read its prompt again); and the ledger must show no effect twice (a step completed twice,
 * a call given two outcomes, a run paused twice without a resume), which is what a decision
 * from a stale record would do.
 */
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import {
  defineAgent,
  defineTool,
  type FaultInjector,
  latestRun,
  listCheckpoints,
  runTracing,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import { createTestSession, type MemoryWorkflows, type TestSession } from "../src/testing/index.ts";
import { sessionWorkflows } from "./fixtures.ts";
import { KeptRecordsMirror } from "./run-records-mirror.ts";
import {
  ADDER_SYSTEM,
  approvableAdd,
  awaitingApproval,
  isFreshPrompt,
  random,
} from "./run-support.ts";

interface World {
  s: TestSession;
  mirror: KeptRecordsMirror;
  flows?: MemoryWorkflows;
  mismatches: number;
  prompts: number;
  /** Set while a command runs inside an action (at a fault point): no nested one. */
  busy: boolean;
  checks: number;
}

function compare(w: World): void {
  w.checks++;
  w.mirror.check();
}

function follow(w: World): void {
  // What the mirror of the object before the restart saw, then a mirror of the new one.
  w.mirror.check();
  w.mirror = new KeptRecordsMirror(w.s);
}

/** The ledger shows no effect twice. */
function noEffectTwice(s: TestSession): void {
  const steps = new Set<string>();
  const outcomes = new Set<string>();
  const paused = new Set<string>();
  for (const e of s.runtime.ledger.read(0, 100_000)) {
    const d = e.data as { step?: number; callId?: string };
    if (e.kind === "step.completed") {
      const key = `${e.runId}/${d.step}`;
      expect(steps.has(key), `step ${key} completed twice`).toBe(false);
      steps.add(key);
    }
    if (e.kind === "tool.completed" || e.kind === "tool.failed") {
      const key = `${e.runId}/${d.step}/${d.callId}`;
      expect(outcomes.has(key), `call ${key} given two outcomes`).toBe(false);
      outcomes.add(key);
    }
    if (e.kind === "run.waiting") {
      expect(paused.has(e.runId ?? ""), `run ${e.runId} paused twice`).toBe(false);
      paused.add(e.runId ?? "");
    }
    if (e.kind === "run.resumed") paused.delete(e.runId ?? "");
  }
}

function agentFor(w: () => World, executor?: "workflow") {
  const inner = scriptedModel({
    chunkSize: 4,
    rules: [
      ({ userText, turn, toolResults }) => {
        if (userText.includes("refuse")) throw new TerminalError("bad_request", "refused");
        if (turn > 1) return { text: `The answer is ${toolResults[0]?.output}.` };
        if (userText.includes("approve"))
          return {
            text: "Asking.",
            toolCalls: [
              { name: "add", args: { a: 7, b: 1 } },
              { name: "add", args: { a: 1, b: 1 } },
            ],
          };
        if (userText.includes("tool") || turn === 1)
          return {
            text: "Adding.",
            toolCalls: [
              { name: "add", args: { a: 2, b: turn } },
              { name: "once", args: { a: 3, b: 3 } },
            ],
          };
        return { text: `Plain answer to ${userText.length} characters.` };
      },
    ],
  });
  const model: LanguageModelV4 = {
    ...inner,
    async doStream(call) {
      const world = w();
      world.prompts++;
      if (!isFreshPrompt(world.s, call.prompt)) world.mismatches++;
      // A pass of the alarm ends after each model call (its budget is 1 ms).
      world.s.clock.advance(1);
      return inner.doStream(call);
    },
  };
  const once = defineTool({
    name: "once",
    description: "Adds, once and for all.",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "irreversible",
    execute: ({ a, b }) => {
      w().s.clock.advance(1);
      return a + b;
    },
  });
  return defineAgent({
    name: "adder",
    system: ADDER_SYSTEM,
    tools: [approvableAdd, once],
    maxSteps: 6,
    ...(executor ? { executor } : {}),
    model,
  });
}

/** One random command to the session's latest run (refusals change nothing). */
async function command(w: World, rand: () => number, n: number): Promise<void> {
  const { s } = w;
  const run = latestRun(s.sql);
  const pick = rand();
  const text = `${n} ${"x".repeat(Math.floor(rand() * 300))}`;
  try {
    if (run?.status === "running") {
      if (pick < 0.4) await s.runtime.interrupt(`interrupt ${n}`);
      else if (pick < 0.6) await s.runtime.abort(`abort ${n}`);
    } else if (run?.status === "waiting") {
      const calls = awaitingApproval(s.sql, run.runId);
      if (pick < 0.15) await s.runtime.interrupt(`interrupt ${n}`);
      else if (pick < 0.25) await s.runtime.abort(`abort ${n}`);
      else
        await s.runtime.resume({
          approvals: calls.map((callId) => ({
            callId,
            approved: rand() < 0.7,
            args: { a: 7, b: 100 + n },
          })),
        });
    } else if (run?.status === "interrupted") {
      const checkpoints = listCheckpoints(s.sql, 0, 1000, run.runId);
      const checkpoint = checkpoints[Math.floor(rand() * checkpoints.length)];
      if (pick < 0.3) await s.runtime.resume({ mode: "continue" });
      else if (pick < 0.6)
        await s.runtime.resume({ mode: "with_message", message: `more ${text}` });
      else if (checkpoint)
        await s.runtime.resume({
          mode: "from_checkpoint",
          checkpoint: checkpoint.id,
          message: `rewound ${text} tool`,
        });
      else await s.runtime.start({ message: `${text} tool` });
    } else if (run?.status === "failed" && pick < 0.5) {
      await s.runtime.retry({ mode: pick < 0.25 ? "from_start" : "from_checkpoint" });
    } else if (run && pick < 0.15) {
      await s.runtime.start({ message: `regenerated ${text} tool`, replaces: run.runId });
    } else {
      const kind = rand();
      const what = kind < 0.3 ? "approve" : kind < 0.7 ? "tool" : kind < 0.8 ? "refuse" : "";
      await s.runtime.start({ message: `${text} ${what}` });
    }
  } catch {
    // A refused command (409: a run still active, not resumable) changes nothing.
  }
}

async function fuzz(seed: number, executor?: "workflow"): Promise<World> {
  const rand = random(seed);
  const chance = random(seed + 7);
  let world: World | undefined;
  const w = () => world as World;
  const faults: FaultInjector = async (point) => {
    const here = w();
    here.checks++;
    here.mirror.checkInside();
    const roll = chance();
    // A crash here: the pump (or the Workflow) retries the step.
    if (roll < 0.12) throw new Error(`injected crash at ${point}`);
    // A command lands inside the action, then the action goes on.
    if (roll < 0.3 && !here.busy) {
      here.busy = true;
      try {
        await command(here, rand, -1);
      } finally {
        here.busy = false;
      }
      here.mirror.checkInside();
    }
  };
  // The tracer's append listener runs before the driver's: its sink fails now and then, and
  // the tracer must keep that from the run.
  const sink = {
    record: () => {
      if (chance() < 0.05) throw new Error("the trace sink is down");
    },
    flush: async () => {},
  };
  let ids = 0;
  const flows = executor ? sessionWorkflows(() => w().s) : undefined;
  const options = {
    newId: () => `run_${++ids}`,
    faults,
    pump: { budgetMs: 1 },
    tracing: { runs: runTracing(sink) },
    // Odd seeds: a budget of nothing, so every cache given to it is dropped, and each step
    // after a stop must read its prompt again (the prompts are checked against the ledger).
    idlePromptCaches: new IdlePromptCaches(seed % 2 === 1 ? 0 : 1_000_000),
    ...(flows ? { agentWorkflows: flows } : {}),
  };
  const s = createTestSession(
    agentFor(w, executor),
    options as Parameters<typeof createTestSession>[1],
  );
  world = {
    s,
    mirror: new KeptRecordsMirror(s),
    flows,
    mismatches: 0,
    prompts: 0,
    busy: false,
    checks: 0,
  };
  for (let n = 0; n < 80; n++) {
    const roll = rand();
    if (roll < 0.08) {
      world.s = world.s.restart();
      follow(world);
    } else if (roll < 0.45) {
      await command(world, rand, n);
      compare(world);
    }
    // One pass of the alarm (about one action), or time for retries and backoffs.
    try {
      if (rand() < 0.7) await world.s.runtime.alarm();
      else {
        world.s.clock.advance(120_000);
        await world.s.drain(5);
      }
      await flows?.resting();
    } catch {
      // A listener's error thrown by an append in a command or an alarm: the pump retries.
    }
    compare(world);
  }
  // Everything left runs out.
  for (let i = 0; i < 20; i++) {
    world.s.clock.advance(120_000);
    try {
      await world.s.drain();
      await flows?.resting();
    } catch {}
    compare(world);
  }
  noEffectTwice(world.s);
  return world;
}

describe("kept run records under random commands, crashes and failing listeners", () => {
  for (const executor of [undefined, "workflow"] as const) {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`${executor ?? "alarm"}, seed ${seed}: equal to the rows after every action`, {
        timeout: 60_000,
      }, async () => {
        const world = await fuzz(seed, executor);
        expect(world.mismatches).toBe(0);
        expect(world.prompts).toBeGreaterThan(5);
        expect(world.checks).toBeGreaterThan(100);
      });
    }
  }
});
