import type { LanguageModelV4 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import {
  type AgentDefinition,
  defineAgent,
  defineTool,
  type FaultInjector,
  latestRun,
  RetryableError,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import { createTestSession, type MemoryWorkflows, type TestSession } from "../src/testing/index.ts";
import { countLoads, sessionWorkflows, settleDue } from "./fixtures.ts";
import { ADDER_SYSTEM, approvableAdd, isFreshPrompt } from "./run-support.ts";

/**
 * Every way a run stops or pauses gives its prompt cache to the budget of idle caches
 * (idle-prompt-caches.ts) once no step of it will run soon: it ended, failed, waits (approval,
 * a delegated or workflow call), was interrupted or aborted (a call in flight or not), waits
 * out a retry delay (the alarm's backoff or Retry-After, a Workflow step's retry), or a
 * workflow tool's job runs in its Workflow step. And no path gives it while a step of the run
 * still uses it: every prompt is a fresh read of the ledger.
 */

const RETRY_AFTER_MS = 30_000;

/** A gate a call waits at: `opened` resolves when a call reached it; `open()` lets it on. */
class Gate {
  #reached!: () => void;
  readonly reached = new Promise<void>((resolve) => {
    this.#reached = resolve;
  });
  open!: () => void;
  readonly #opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  async pass(): Promise<void> {
    this.#reached();
    await this.#opened;
  }
}

/** What the model and the tools of a test do, set per test. */
interface Control {
  session?: TestSession;
  /** The next this many model calls fail with a retryable error (a provider's 503, Retry-After 30 s). */
  failures: number;
  /** The next model call waits here before it streams (it does not heed its abort meanwhile). */
  modelGate?: Gate;
  /** The next `slow` tool call waits here (it does not heed its abort meanwhile). */
  toolGate?: Gate;
  calls: number;
  /** Prompts that differed from a fresh read of the ledger. */
  mismatches: number;
  /** How many times the session's own cache read its whole prompt (the check's reads not counted). */
  loads: number;
  checking: boolean;
}

function control(): Control {
  return { failures: 0, calls: 0, mismatches: 0, loads: 0, checking: false };
}

function controlledModel(c: Control): LanguageModelV4 {
  const inner = scriptedModel({
    rules: [
      ({ userText, turn, toolResults }) => {
        if (userText.includes("refuse")) throw new TerminalError("bad_request", "refused");
        if (turn > 0) return { text: `Done: ${JSON.stringify(toolResults[0]?.output)}.` };
        if (userText.includes("use slow and plus"))
          return {
            text: "Calling both.",
            toolCalls: [
              { name: "slow", args: { a: 1, b: 1 } },
              { name: "plus", args: { a: 2, b: 2 } },
            ],
          };
        for (const name of ["add", "slow", "crunch"])
          if (userText.includes(`use ${name}`))
            return { text: "Calling.", toolCalls: [{ name, args: { a: 7, b: 1 } }] };
        return { text: "A plain answer." };
      },
    ],
  });
  return {
    ...inner,
    async doStream(call) {
      const s = c.session;
      if (s) {
        c.calls++;
        c.checking = true;
        const fresh = isFreshPrompt(s, call.prompt);
        c.checking = false;
        if (!fresh) c.mismatches++;
      }
      if (c.failures > 0) {
        c.failures--;
        throw new RetryableError("model_overloaded", "the provider is overloaded", {
          retryAfterMs: RETRY_AFTER_MS,
        });
      }
      const gate = c.modelGate;
      c.modelGate = undefined;
      await gate?.pass();
      return inner.doStream(call);
    },
  };
}

function agentFor(c: Control, executor?: "workflow"): AgentDefinition {
  const slow = defineTool({
    name: "slow",
    description: "Adds slowly.",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "pure",
    execute: async ({ a, b }) => {
      const gate = c.toolGate;
      c.toolGate = undefined;
      await gate?.pass();
      return a + b;
    },
  });
  const plus = defineTool({
    name: "plus",
    description: "Adds two numbers.",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "pure",
    execute: ({ a, b }) => a + b,
  });
  const crunch = defineTool({
    name: "crunch",
    description: "A long job on a Workflow.",
    input: z.object({ a: z.number(), b: z.number() }),
    effect: "idempotent",
    executor: "workflow",
    execute: ({ a, b }) => a + b,
  });
  return defineAgent({
    name: "adder",
    system: ADDER_SYSTEM,
    tools: [approvableAdd, slow, plus, crunch],
    ...(executor ? { executor } : {}),
    model: controlledModel(c),
  });
}

interface Harness {
  readonly s: TestSession;
  readonly c: Control;
  readonly idle: IdlePromptCaches;
  readonly flows: MemoryWorkflows;
  /** Runs the due work and the Workflow instances until nothing is due now and all rest. */
  settle(): Promise<void>;
}

/**
 * A session on `executor`, its idle cache in `idle`. `job` runs a workflow tool's call in the
 * run's Workflow step (on the alarm executor, in an instance of its own).
 */
function session(
  idle: IdlePromptCaches,
  executor?: "workflow",
  job: () => Promise<number> = async () => 8,
  faults?: FaultInjector,
): Harness {
  const c = control();
  let s: TestSession | undefined;
  const flows = sessionWorkflows(
    () => s as TestSession,
    async () => ({ type: "completed", result: await job() }),
  );
  s = createTestSession(agentFor(c, executor), {
    idlePromptCaches: idle,
    agentWorkflows: flows,
    ...(faults ? { faults } : {}),
  });
  c.session = s;
  // The session's whole-prompt reads, the check's own not counted.
  countLoads(s, c, () => c.checking);
  const ready = s;
  return {
    s: ready,
    c,
    idle,
    flows,
    settle: () => settleDue(() => ready, flows, 100),
  };
}

/** Lets pending promise callbacks and timers run until `done()` or a bounded number of turns. */
async function turns(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 0));
}

const text = (tag: string, size: number) => `${tag} ${"x".repeat(size)}`;

describe("a run waiting out a retry delay gives its prompt cache to the budget", () => {
  it("on the alarm: objects waiting on retries hold no more than the budget, the rest read again", async () => {
    // Room for one of the three conversations.
    const idle = new IdlePromptCaches(8_000);
    const all = [session(idle), session(idle), session(idle)];
    for (const [i, h] of all.entries()) {
      h.c.failures = 1;
      await h.s.runtime.start({ message: text(`session ${i}`, 5_000) });
      await h.settle();
      // The model call failed retryably: the run is still running, its retry due in 30 s.
      expect(latestRun(h.s.sql)?.status).toBe("running");
      expect(h.s.wakeAt()).toBe(h.s.clock.now() + RETRY_AFTER_MS);
      // Its cache is idle meanwhile: in the budget (and it drops the one kept before it).
      expect(idle.count).toBe(1);
      expect(idle.bytes).toBeGreaterThan(5_000);
    }
    // The last one kept first: it was still held.
    for (const h of [...all].reverse()) {
      h.s.clock.advance(RETRY_AFTER_MS);
      await h.settle();
      expect(latestRun(h.s.sql)?.status).toBe("completed");
      expect(h.c.mismatches).toBe(0);
    }
    // The first two were dropped while they waited and read their prompt again; the last was
    // still held. (A cache kept in use through the wait would have read once each.)
    expect(all.map((h) => h.c.loads)).toEqual([2, 2, 1]);
    expect(idle.bytes).toBeLessThanOrEqual(idle.budgetBytes);
  });

  it("on the Workflow executor: while a model step waits for its retry, its cache is in the budget", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    const h = session(idle, "workflow");
    h.c.failures = 1;
    const before: number[] = [];
    // Runs before each attempt of the step: the second one follows the failed first.
    h.flows.beforeStep("model 1", () => {
      before.push(idle.count);
    });
    await h.s.runtime.start({ message: text("retried", 3_000) });
    await h.settle();
    expect(latestRun(h.s.sql)?.status).toBe("completed");
    expect(before).toEqual([0, 1]);
    expect(h.c.calls).toBe(2);
    expect(h.c.mismatches).toBe(0);
    expect(idle.count).toBe(1);
  });
});

describe("a decision that throws", () => {
  it("alarm: a crash after a step's commit waits its backoff with the cache in the budget", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    let crashes = 0;
    const faults: FaultInjector = (point) => {
      if (point === "after-step-commit" && crashes++ === 0)
        throw new Error("injected crash after the step's commit");
    };
    const h = session(idle, undefined, undefined, faults);
    await h.s.runtime.start({ message: text("use slow", 3_000) });
    await h.settle();
    // Step 1 (the model call, then the tool) committed; the decision after it threw.
    expect(crashes).toBe(1);
    expect(latestRun(h.s.sql)?.status).toBe("running");
    expect(h.s.wakeAt()).toBeGreaterThan(h.s.clock.now());
    expect(idle.count).toBe(1);
    h.s.clock.advance(60_000);
    await h.settle();
    expect(latestRun(h.s.sql)?.status).toBe("completed");
    expect(h.c.mismatches).toBe(0);
  });
});

describe("a run aborted on the Workflow executor while a call is in flight", () => {
  for (const what of ["model", "tool"] as const) {
    it(`gives its cache to the budget once the ${what} call lands, though its instance was terminated`, async () => {
      const idle = new IdlePromptCaches(1_000_000);
      const h = session(idle, "workflow");
      const gate = new Gate();
      if (what === "model") h.c.modelGate = gate;
      else h.c.toolGate = gate;
      await h.s.runtime.start({
        message: text(what === "model" ? "aborted" : "aborted, use slow", 3_000),
      });
      const started = h.settle();
      await gate.reached;
      // The call is in flight: the cache is in use, not in the budget.
      expect(idle.count).toBe(0);
      await h.s.runtime.abort("the user left");
      await h.s.drain();
      const instance = [...h.flows.instances.values()][0];
      expect(instance?.status).toBe("terminated");
      gate.open();
      await started;
      await turns(() => idle.count > 0);
      expect(latestRun(h.s.sql)?.status).toBe("aborted");
      expect(idle.count).toBe(1);
      expect(idle.bytes).toBeGreaterThan(3_000);
      // Given once: a run after it starts warm from the budget and reads no history again.
      await h.s.runtime.start({ message: "after" });
      await h.settle();
      expect(latestRun(h.s.sql)?.status).toBe("completed");
      expect(h.c.loads).toBe(1);
      expect(h.c.mismatches).toBe(0);
    });
  }
});

describe("a workflow tool's job running in the run's own Workflow step", () => {
  it("leaves the cache in the budget while it runs; the next model step takes it back", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    const during: number[] = [];
    const h = session(idle, "workflow", async () => {
      during.push(idle.count);
      return 8;
    });
    await h.s.runtime.start({ message: text("use crunch", 3_000) });
    await h.settle();
    expect(latestRun(h.s.sql)?.status).toBe("completed");
    expect(during).toEqual([1]);
    expect(h.c.mismatches).toBe(0);
  });
});

describe("a call of the run still in flight keeps the cache in use", () => {
  it("Workflow: a tool step that crashed gives it only once the other call lands, while it waits for its retry", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    let crashes = 0;
    // The `plus` call's step crashes once before its result commits (the Workflow retries it).
    const faults: FaultInjector = (point, info) => {
      if (point === "before-tool-commit" && info.callId === "call_0_1" && crashes++ === 0)
        throw new Error("injected crash before the result commits");
    };
    const h = session(idle, "workflow", undefined, faults);
    const gate = new Gate();
    h.c.toolGate = gate;
    const seen: number[] = [];
    let attempts = 0;
    const slowDone = () =>
      h.s.runtime.ledger
        .read(0)
        .some((e) => e.kind === "tool.completed" && e.data.callId === "call_0_0");
    // Before `plus`'s retry (its step's retry delay): `slow` in flight, then landed.
    h.flows.beforeStep("tool 1 call_0_1", async () => {
      if (++attempts !== 2) return;
      await gate.reached;
      seen.push(idle.count);
      gate.open();
      await turns(slowDone);
      seen.push(idle.count);
    });
    await h.s.runtime.start({ message: text("use slow and plus", 3_000) });
    await h.settle();
    expect(crashes).toBe(2);
    expect(seen).toEqual([0, 1]);
    expect(latestRun(h.s.sql)?.status).toBe("completed");
    expect(idle.count).toBe(1);
    expect(h.c.mismatches).toBe(0);
  });
});

/**
 * The paths that gave the cache to the budget before: each must keep doing so (breaking the
 * rule in run-driver.ts fails these).
 */
describe("every other way a run stops gives its cache to the budget", () => {
  const stops: {
    readonly name: string;
    readonly message: string;
    readonly status: string;
    /** Done to the run once it is under way (a gate reached, when one is set). */
    readonly act?: (h: Harness) => Promise<unknown>;
    readonly gate?: "model" | "tool";
  }[] = [
    { name: "it completes", message: "plain", status: "completed" },
    { name: "it waits for an approval", message: "use add", status: "waiting" },
    { name: "it fails (the model refuses)", message: "refuse", status: "failed" },
    {
      name: "it is interrupted while its model call streams",
      message: "interrupted",
      status: "interrupted",
      gate: "model",
      act: (h) => h.s.runtime.interrupt("a human stepped in"),
    },
    {
      name: "it is aborted while a tool runs",
      message: "use slow",
      status: "aborted",
      gate: "tool",
      act: (h) => h.s.runtime.abort("the user left"),
    },
  ];
  for (const executor of [undefined, "workflow"] as const) {
    for (const stop of stops) {
      it(`${executor ?? "alarm"}: ${stop.name}`, async () => {
        const idle = new IdlePromptCaches(1_000_000);
        const h = session(idle, executor);
        const gate = stop.gate ? new Gate() : undefined;
        if (stop.gate === "model") h.c.modelGate = gate;
        if (stop.gate === "tool") h.c.toolGate = gate;
        await h.s.runtime.start({ message: text(stop.message, 3_000) });
        const settled = h.settle();
        if (gate) {
          await gate.reached;
          expect(idle.count).toBe(0);
          await stop.act?.(h);
          gate.open();
        }
        await settled;
        await h.settle();
        await turns(() => idle.count > 0);
        expect(latestRun(h.s.sql)?.status).toBe(stop.status);
        expect(idle.count).toBe(1);
        expect(idle.bytes).toBeGreaterThan(3_000);
        expect(h.c.mismatches).toBe(0);
      });
    }
  }

  it("alarm: it waits for a workflow tool's own instance", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    const c = control();
    const created: string[] = [];
    // A Workflows binding whose instances run on: the call waits for its outcome.
    const s = createTestSession(agentFor(c), {
      idlePromptCaches: idle,
      workflows: {
        create: async (instanceId) => void created.push(instanceId),
        wake: async () => undefined,
        status: async () => ({ status: "running" }),
      },
    });
    c.session = s;
    await s.runtime.start({ message: text("use crunch", 3_000) });
    await s.drain();
    expect(created).toHaveLength(1);
    expect(latestRun(s.sql)?.status).toBe("waiting");
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(3_000);
    expect(c.mismatches).toBe(0);
  });
});
