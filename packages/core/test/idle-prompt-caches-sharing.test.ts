import type { LanguageModelV4, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import type { ContextOptions, SummarizeInput } from "../src/agent/context-options.ts";
import type { FaultInjector } from "../src/agent/faults.ts";
import { type IdleCache, IdlePromptCaches } from "../src/agent/idle-prompt-caches.ts";
import { MessageCache } from "../src/agent/message-cache.ts";
import { defineAgent, latestRun, scriptedModel, TerminalError } from "../src/index.ts";
import { listCheckpoints } from "../src/ledger/projections/index.ts";
import { createTestSession, type MemoryWorkflows, type TestSession } from "../src/testing/index.ts";
import { countLoads, sessionWorkflows } from "./fixtures.ts";
import {
  ADDER_SYSTEM,
  approvableAdd,
  awaitingApproval,
  freshPrompt,
  random,
} from "./run-support.ts";

/**
 * Sessions of one isolate share a budget of idle prompt caches (idle-prompt-caches.ts): the
 * prompt each model call receives must be exactly what a fresh object reads from that session's
 * ledger, whatever the other sessions did to the budget and whatever changed the conversation
 * while the cache was idle (a regenerate, a rewind, edited approvals, a retry, a compaction, a
 * restart of the object).
 */

interface Checked {
  session?: TestSession;
  calls: number;
  mismatches: { expected: LanguageModelV4Prompt; received: LanguageModelV4Prompt }[];
}

/** The scripted model, checking each prompt it receives against a fresh read of the ledger. */
function checkingModel(checked: Checked, compacted: boolean): LanguageModelV4 {
  const inner = scriptedModel({
    chunkSize: 5,
    rules: [
      ({ userText, turn, toolResults }) => {
        if (userText.includes("fail")) throw new TerminalError("bad_request", "refused");
        if (turn > 0) return { text: `The answer is ${toolResults[0]?.output}.` };
        if (userText.includes("approve"))
          return { text: "Asking.", toolCalls: [{ name: "add", args: { a: 7, b: 1 } }] };
        if (userText.includes("tool"))
          return { text: "Adding.", toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] };
        return { text: `Plain answer to ${userText.length} characters.` };
      },
    ],
  });
  return {
    ...inner,
    async doStream(call) {
      const s = checked.session;
      if (s) {
        checked.calls++;
        const expected = freshPrompt(s, compacted);
        if (JSON.stringify(expected) !== JSON.stringify(call.prompt))
          checked.mismatches.push({ expected, received: structuredClone(call.prompt) });
      }
      return inner.doStream(call);
    },
  };
}

function checkedAgent(checked: Checked, context?: ContextOptions, executor?: "workflow") {
  return defineAgent({
    name: "adder",
    system: ADDER_SYSTEM,
    tools: [approvableAdd],
    ...(executor ? { executor } : {}),
    model: checkingModel(checked, context !== undefined),
    ...(context ? { context } : {}),
  });
}

async function settle(s: TestSession, flows?: MemoryWorkflows): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await s.drain();
    await flows?.resting();
    s.clock.advance(120_000);
  }
}

/** One random thing done to a session: a run, a regenerate, a rewind, an approval, a restart. */
async function step(
  s: TestSession,
  rand: () => number,
  n: number,
  flows?: MemoryWorkflows,
): Promise<TestSession> {
  const run = latestRun(s.sql);
  const pick = rand();
  const size = Math.floor(rand() * 2_000);
  const text = `${n} ${"x".repeat(size)}`;
  try {
    if (run?.status === "waiting" && pick >= 0.8) {
      await s.runtime.interrupt("a human stepped in");
    } else if (run?.status === "interrupted") {
      const checkpoints = listCheckpoints(s.sql, 0, 1000, run.runId);
      const checkpoint = checkpoints[Math.floor(rand() * checkpoints.length)];
      if (pick < 0.4) await s.runtime.resume({ mode: "with_message", message: `more ${text}` });
      else if (pick < 0.8 && checkpoint)
        await s.runtime.resume({
          mode: "from_checkpoint",
          checkpoint: checkpoint.id,
          message: `rewound ${text} tool`,
        });
      else await s.runtime.resume({ mode: "continue" });
    } else if (run?.status === "waiting") {
      await s.runtime.resume({
        approvals: [
          {
            callId: awaitingApproval(s.sql, run.runId)[0] ?? "none",
            approved: pick < 0.7,
            args: { a: 7, b: 100 + n },
          },
        ],
      });
    } else if (run?.status === "failed" && pick < 0.5) {
      await s.runtime.retry({ mode: pick < 0.25 ? "from_start" : "from_checkpoint" });
    } else if (pick < 0.1 && run) {
      return s.restart();
    } else if (pick < 0.25 && run) {
      await s.runtime.start({ message: `regenerated ${text} tool`, replaces: run.runId });
    } else if (pick < 0.35 && run && run.status !== "running") {
      const checkpoints = listCheckpoints(s.sql, 0, 1000);
      const checkpoint = checkpoints[Math.floor(rand() * checkpoints.length)];
      if (checkpoint && checkpoint.runId === run.runId)
        await s.runtime.resume({
          mode: "from_checkpoint",
          checkpoint: checkpoint.id,
          message: `rewound ${text}`,
        });
      else await s.runtime.start({ message: `${text} tool` });
    } else if (pick < 0.45) {
      await s.runtime.start({ message: `${text} approve` });
    } else if (pick < 0.5) {
      await s.runtime.start({ message: `${text} fail` });
    } else {
      await s.runtime.start({ message: `${text}${pick < 0.75 ? " tool" : ""}` });
    }
  } catch {
    // A refused command (409: a run still active, not resumable) changes nothing.
  }
  await settle(s, flows);
  return s;
}

/**
 * The budget, watched: every cache it was given, with the size it was kept at. A held cache must
 * not change while held (invariant 2 of idle-prompt-caches.ts), and `bytes` must be the sum of
 * the held ones' sizes: `check` compares, after every step of the fuzz.
 */
class WatchedBudget extends IdlePromptCaches {
  readonly kept = new Map<IdleCache, number>();

  override keep(cache: IdleCache): void {
    super.keep(cache);
    this.kept.set(cache, cache.bytes);
  }

  override use(cache: IdleCache): void {
    super.use(cache);
    this.kept.delete(cache);
  }

  check(): void {
    let sum = 0;
    let count = 0;
    for (const [cache, size] of this.kept) {
      // Dropped (over the budget, or for more recent ones): empty, and no longer counted.
      if (cache.bytes === 0) continue;
      expect(cache.bytes).toBe(size);
      sum += size;
      count++;
    }
    expect(this.bytes).toBe(sum);
    expect(this.count).toBe(count);
    expect(this.bytes).toBeLessThanOrEqual(this.budgetBytes);
  }
}

async function fuzz(
  seed: number,
  contexts: (ContextOptions | undefined)[],
  budget: number,
  faultRate = 0,
  executor?: "workflow",
) {
  const idle = new WatchedBudget(budget);
  const rand = random(seed);
  // A step that throws at a fault point (a crash in the middle of a step): the pump retries it.
  const chance = random(seed + 1);
  const faults: FaultInjector = (point) => {
    if (chance() < faultRate) throw new Error(`injected failure at ${point}`);
  };
  const all = contexts.map((context) => {
    const checked: Checked = { calls: 0, mismatches: [] };
    // Run ids go on across a restart (the test session's own counter starts again).
    let ids = 0;
    const newId = () => `run_${++ids}`;
    // On the Workflow executor, in-memory Workflows call the session's current runtime.
    const flows = executor ? sessionWorkflows(() => one.s) : undefined;
    const s = createTestSession(checkedAgent(checked, context, executor), {
      idlePromptCaches: idle,
      newId,
      faults,
      ...(flows ? { agentWorkflows: flows } : {}),
    });
    checked.session = s;
    const one: { checked: Checked; s: TestSession; flows?: MemoryWorkflows } = {
      checked,
      s,
      flows,
    };
    return one;
  });
  let counts = 0;
  for (let n = 0; n < 120; n++) {
    const one = all[Math.floor(rand() * all.length)]!;
    one.s = await step(one.s, rand, n, one.flows);
    one.checked.session = one.s;
    counts += idle.count;
    idle.check();
  }
  return { all, counts, idle };
}

describe("sessions sharing a budget of idle prompt caches", () => {
  for (const [name, contexts, executor] of [
    ["no compaction", [undefined, undefined, undefined], undefined],
    [
      "compacted and not",
      [
        { keepMessages: 3, compactAfterMessages: 6, summarize: false },
        {
          keepMessages: 4,
          compactAfterMessages: 8,
          summarize: async ({ messages }: SummarizeInput) => `summary of ${messages.length}`,
        },
        undefined,
      ],
      undefined,
    ],
    [
      "on the Workflow executor",
      [undefined, { keepMessages: 3, compactAfterMessages: 6, summarize: false }],
      "workflow",
    ],
  ] as const) {
    it(`every prompt is a fresh read of its own ledger (${name})`, {
      timeout: 60_000,
    }, async () => {
      for (const [seed, faultRate] of [
        [1, 0],
        [2, 0],
        [3, 0.05],
      ]) {
        // A budget of about two conversations: caches are kept, refreshed and dropped.
        const { all, counts } = await fuzz(seed!, [...contexts], 12_000, faultRate, executor);
        const calls = all.reduce((sum, one) => sum + one.checked.calls, 0);
        expect(calls).toBeGreaterThan(100);
        expect(counts).toBeGreaterThan(0);
        for (const one of all) expect(one.checked.mismatches).toEqual([]);
      }
    });
  }
});

describe("a run that fails on an error its step threw", () => {
  it("leaves its cache in the budget: an idle object keeps no conversation beyond it", async () => {
    // Room for none of this conversation: at run end, its cache must be dropped.
    const idle = new IdlePromptCaches(1_000);
    const checked: Checked = { calls: 0, mismatches: [] };
    const s = createTestSession(checkedAgent(checked), { idlePromptCaches: idle });
    const loads = countLoads(s);
    await s.runtime.start({ message: `${"x".repeat(3_000)} tool` });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(loads.loads).toBe(1);
    // The model refuses (a TerminalError, as a provider's 400): the pump gives the run up.
    await s.runtime.start({ message: `${"y".repeat(3_000)} fail` });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("failed");
    // The cache was dropped when the run stopped, over the budget: the next run reads again.
    await s.runtime.start({ message: "And again" });
    await settle(s);
    expect(loads.loads).toBe(3);
    expect(idle.count).toBe(0);
  });

  it("is kept in the budget when it fits, as a run that stopped otherwise", async () => {
    const idle = new IdlePromptCaches(1_000_000);
    const checked: Checked = { calls: 0, mismatches: [] };
    const s = createTestSession(checkedAgent(checked), { idlePromptCaches: idle });
    await s.runtime.start({ message: `${"x".repeat(3_000)} tool` });
    await s.drain();
    await settle(s);
    expect(idle.count).toBe(1);
    await s.runtime.start({ message: `${"y".repeat(3_000)} fail` });
    await settle(s);
    expect(latestRun(s.sql)?.status).toBe("failed");
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(6_000);
  });
});

describe("a held idle cache of an object the runtime let go", () => {
  it("keeps only its conversation alive: not the runtime, its SQL port or its agent", async () => {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const idle = new IdlePromptCaches(1_000_000);
    const refs = await (async () => {
      const checked: Checked = { calls: 0, mismatches: [] };
      const agent = checkedAgent(checked);
      const s = createTestSession(agent, { idlePromptCaches: idle });
      await s.runtime.start({ message: `${"x".repeat(3_000)} tool` });
      await settle(s);
      return {
        runtime: new WeakRef(s.runtime),
        sql: new WeakRef(s.sql),
        agent: new WeakRef(agent),
      };
    })();
    // The object is gone; its cache is still held, within the budget.
    expect(idle.count).toBe(1);
    expect(idle.bytes).toBeGreaterThan(3_000);
    for (let i = 0; i < 5 && refs.runtime.deref(); i++) {
      await new Promise((r) => setTimeout(r, 0));
      gc();
    }
    expect(refs.runtime.deref()).toBeUndefined();
    expect(refs.sql.deref()).toBeUndefined();
    expect(refs.agent.deref()).toBeUndefined();
    expect(idle.count).toBe(1);
  });
});

describe("a prompt that throws while it reads the conversation", () => {
  it("leaves the cache to read again: the next prompt is exact and the budget counts it right", async () => {
    const idle = new WatchedBudget(1_000_000);
    const checked: Checked = { calls: 0, mismatches: [] };
    // The session's own runtime keeps its cache elsewhere: `idle` holds only the one tested.
    const s = createTestSession(checkedAgent(checked), {
      idlePromptCaches: new IdlePromptCaches(),
    });
    await s.runtime.start({ message: `${"x".repeat(500)} tool` });
    await settle(s);
    const cache = new MessageCache(s.sql, { idle });
    const fresh = () => freshPrompt(s);
    cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail);
    cache.release();
    idle.check();
    expect(idle.count).toBe(1);
    // The next statement of the given kind throws once (a storage error inside prompt()).
    const exec = s.sql.exec.bind(s.sql);
    const failOnce = (marker: string) => {
      let armed = true;
      s.sql.exec = ((query: string, ...params) => {
        if (armed && query.includes(marker)) {
          armed = false;
          throw new Error("injected storage error");
        }
        return exec(query, ...params);
      }) as typeof s.sql.exec;
    };
    // A refresh (a run after it) that fails, then one that loads (a regenerate hid old rows).
    await s.runtime.start({ message: "again tool" });
    await settle(s);
    failOnce("WHERE seq > ?");
    expect(() => cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail)).toThrow(
      "injected storage error",
    );
    expect(idle.count).toBe(0);
    idle.check();
    expect(cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail)).toEqual(fresh());
    // Loaded whole again, so that the regenerate below hides loaded rows: a reload.
    cache.invalidate();
    expect(cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail)).toEqual(fresh());
    cache.release();
    idle.check();
    const latest = latestRun(s.sql)?.runId;
    await s.runtime.start({ message: "regenerated tool", replaces: latest });
    await settle(s);
    failOnce("group_concat(p, ',')");
    expect(() => cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail)).toThrow(
      "injected storage error",
    );
    expect(cache.bytes).toBe(0);
    idle.check();
    expect(cache.prompt(ADDER_SYSTEM, s.runtime.ledger.tail)).toEqual(fresh());
    cache.release();
    idle.check();
    expect(idle.count).toBe(1);
  });
});
