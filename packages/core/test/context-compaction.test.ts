/**
 * Context compaction through a whole session (createTestSession: the core runtime as a Durable
 * Object drives it): the prompt after a compaction is the system message, the summary and the
 * kept tail of the full conversation; the tail starts at a safe boundary; a crash before or
 * after the commit compacts once; a regenerate before a compaction drops its summary, a fork
 * before it has none; the default summarizer is the agent's own model, its usage counted.
 */
import type {
  LanguageModelV4,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
} from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { compactionCut } from "../src/agent/context-compaction.ts";
import type { SummarizeInput } from "../src/agent/context-options.ts";
import { summaryMessage } from "../src/agent/message-cache.ts";
import { convert } from "../src/agent/prompt.ts";
import { latestRun, listMessages, scriptedModel } from "../src/index.ts";
import { listCheckpoints } from "../src/ledger/projections/checkpoints.ts";
import { activeCompaction } from "../src/ledger/projections/compactions.ts";
import { changedMessages } from "../src/ledger/projections/message-reads.ts";
import { usageSummary } from "../src/ledger/projections/usage.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";
import {
  compactions,
  diesAfterCompaction,
  isSummary,
  lookupModel,
  recordingSummarizer,
  redriven,
  runs,
  SYSTEM,
  stepUntil,
  wordsAgent,
} from "./compaction-fixture.ts";

/**
 * A model that follows a plan by call (a lookup or an answer), whatever the prompt holds: a
 * compacted prompt no longer shows how many steps the run took.
 */
function planned(prompts: LanguageModelV4Prompt[], plan: readonly string[]): LanguageModelV4 {
  let call = 0;
  return scriptedModel({
    rules: [
      ({ prompt }) => {
        prompts.push(prompt);
        const n = call++;
        return plan[n] === "tool"
          ? { toolCalls: [{ name: "lookup", args: { word: `w${n}` } }] }
          : { text: `answer ${n}` };
      },
    ],
  });
}

/** A summarizer that records what it is given and says which messages it folded in. */
const recording = () =>
  recordingSummarizer((input) => {
    const users = input.messages.filter((m) => m.role === "user").length;
    return `${input.previousSummary ?? "start"} + ${input.messages.length} messages (${users} user)`;
  });

/** The whole conversation, converted message by message, with indexes (the reference). */
function conversation(s: TestSession): { index: number; message: LanguageModelV4Message }[] {
  return changedMessages(s.sql, 0).flatMap((m) => {
    const message = m.parts.length > 0 ? convert(m) : undefined;
    return message ? [{ index: m.index, message }] : [];
  });
}

describe("where the kept tail starts (compactionCut)", () => {
  const options = { keepMessages: 3, compactAfterMessages: 6 };
  it("compacts nothing up to the trigger", () => {
    expect(
      compactionCut(["user", "assistant", "tool", "assistant", "user", "assistant"], options),
    ).toBe(undefined);
  });
  it("starts at a user message within the trigger, before the keepMessages point", () => {
    // 7 messages: keep from 4; the user message at 4.
    const roles = ["user", "assistant", "tool", "assistant", "user", "assistant", "tool"] as const;
    expect(compactionCut(roles, options)).toBe(4);
    // The user message two before the keep point is still within the trigger.
    const later = ["user", "assistant", "tool", "user", "assistant", "tool", "assistant"] as const;
    expect(compactionCut(later, options)).toBe(3);
  });
  it("never starts at a tool result: back to its assistant message when no user message is near", () => {
    // A user message, then six steps of an assistant tool call and its result.
    const roles = Array.from({ length: 13 }, (_, i) =>
      i === 0 ? "user" : i % 2 === 1 ? "assistant" : "tool",
    ) as ("user" | "assistant" | "tool")[];
    const cut = compactionCut(roles, options);
    expect(cut).toBeDefined();
    expect(roles[cut as number]).toBe("assistant");
    expect(roles.length - (cut as number)).toBeLessThanOrEqual(options.compactAfterMessages);
    expect(roles.length - (cut as number)).toBeGreaterThanOrEqual(options.keepMessages);
  });
  it("with the token trigger: anything past keepMessages, the tail no longer than keepMessages unless at a tool result", () => {
    const roles = ["user", "assistant", "tool", "assistant", "user", "assistant"] as const;
    // Under compactAfterMessages (6), the token trigger still compacts: from the keep point.
    expect(compactionCut(roles, { keepMessages: 2, compactAfterMessages: 6 }, "tokens")).toBe(4);
    expect(compactionCut(roles, { keepMessages: 2 }, "tokens")).toBe(4);
    // Without compactAfterMessages the tail does not reach back for a user message...
    expect(compactionCut(roles, { keepMessages: 1 }, "tokens")).toBe(5);
    // ...with it, it does, within compactAfterMessages.
    expect(compactionCut(roles, { keepMessages: 1, compactAfterMessages: 6 }, "tokens")).toBe(4);
    // Never at a tool result; nothing to compact up to keepMessages.
    expect(compactionCut(["user", "assistant", "tool"], { keepMessages: 1 }, "tokens")).toBe(1);
    expect(compactionCut(["user", "assistant"], { keepMessages: 2 }, "tokens")).toBe(undefined);
  });
});

describe("context compaction in a session", () => {
  it("sends the system message, the summary and the kept tail of the full conversation", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { calls, summarize } = recording();
    const s = createTestSession(
      wordsAgent(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize }),
    );
    await runs(s, ["alpha", "beta"]);
    // Run 2, step 2: 7 messages (> 6): the tail from beta's user message on, the rest summarized.
    const [event] = compactions(s);
    expect(compactions(s)).toHaveLength(1);
    expect(event?.runId).toBe("run_2");
    expect(event?.data.step).toBe(2);
    const full = conversation(s);
    const through = event?.data.throughIndex as number;
    const older = full.filter((m) => m.index <= through).map((m) => m.message);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.messages).toEqual(older);
    expect(calls[0]?.previousSummary).toBeUndefined();
    expect(older.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    // The prompt the model got for that step, against the full conversation as it then stood.
    const tailEnd = listMessages(s.sql, 0, 100).find((m) => m.id === "run_2:1:t")?.index as number;
    const tail = full.filter((m) => m.index > through && m.index <= tailEnd).map((m) => m.message);
    expect(tail[0]?.role).toBe("user");
    const expected: LanguageModelV4Prompt = [
      { role: "system", content: SYSTEM },
      summaryMessage(event?.data.summary as string),
      ...tail,
    ];
    expect(JSON.stringify(prompts.at(-1))).toBe(JSON.stringify(expected));
    expect(event?.data.summary).toBe("start + 4 messages (1 user)");
    // Clients still read every message.
    expect(listMessages(s.sql, 0, 100)).toHaveLength(8);

    // More runs: each compaction folds the previous summary in, and no step compacts twice.
    await runs(s, ["gamma", "delta", "epsilon"]);
    const all = compactions(s);
    expect(all.length).toBeGreaterThan(1);
    expect(new Set(all.map((e) => `${e.runId}/${e.data.step}`)).size).toBe(all.length);
    for (const [i, call] of calls.entries())
      expect(call.previousSummary).toBe(i === 0 ? undefined : all[i - 1]?.data.summary);
    // Every prompt the model got holds at most compactAfterMessages messages after the summary.
    for (const prompt of prompts) {
      const after = prompt.filter((m, i) => i > 0 && !isSummary(m));
      expect(after.length).toBeLessThanOrEqual(6);
    }
    const last = activeCompaction(s.sql);
    expect(last?.seq).toBe(all.at(-1)?.seq);
  });

  it("keeps a tool call with its result: a long run compacts from an assistant message", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { summarize } = recording();
    const many = planned(prompts, [...Array(8).fill("tool"), "text"]);
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 3, compactAfterMessages: 6, summarize },
        { model: many, maxSteps: 20 },
      ),
    );
    await runs(s, ["one long run"]);
    expect(compactions(s).length).toBeGreaterThan(0);
    for (const prompt of prompts) {
      const body = prompt.slice(1).filter((m) => !isSummary(m));
      // The first message after the summary is never a tool result, and every result has its call.
      expect(body[0]?.role).not.toBe("tool");
      const calls = new Set(
        body.flatMap((m) =>
          m.role === "assistant"
            ? m.content.flatMap((p) => (p.type === "tool-call" ? [p.toolCallId] : []))
            : [],
        ),
      );
      for (const m of body)
        if (m.role === "tool")
          for (const p of m.content)
            if (p.type === "tool-result") expect(calls.has(p.toolCallId)).toBe(true);
    }
  });

  it("a plain window (summarize: false) drops the older messages and sends no summary", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const s = createTestSession(
      wordsAgent(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize: false }),
    );
    await runs(s, ["alpha", "beta", "gamma"]);
    expect(compactions(s).every((e) => e.data.summary === "")).toBe(true);
    const last = prompts.at(-1) as LanguageModelV4Prompt;
    expect(last.some(isSummary)).toBe(false);
    expect(last[1]?.role).toBe("user");
    expect(JSON.stringify(last)).not.toContain("alpha");
  });

  it("a crash after summarizing, before the commit, summarizes again and compacts once", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    let calls = 0;
    let hang = false;
    const summarize = async (input: SummarizeInput) => {
      calls++;
      // The object dies while its summary is being written: nothing is committed.
      if (hang) return new Promise<string>(() => {});
      return `summary of ${input.messages.length}`;
    };
    const s = createTestSession(
      wordsAgent(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize }),
    );
    await runs(s, ["alpha"]);
    hang = true;
    await s.runtime.start({ message: "beta" });
    // Step 1 (5 messages: nothing to compact), then step 2, whose summary hangs.
    await stepUntil(s, () => calls > 0);
    expect(calls).toBe(1);
    expect(compactions(s)).toHaveLength(0);
    hang = false;
    const fresh = await redriven(s);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(calls).toBe(2);
    expect(compactions(fresh)).toHaveLength(1);
  });

  it("a crash after the commit, before the model answers, reuses the compaction", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { calls, summarize } = recording();
    const { model: dying, hangs } = diesAfterCompaction(lookupModel(prompts));
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 3, compactAfterMessages: 6, summarize },
        { model: dying },
      ),
    );
    await runs(s, ["alpha"]);
    await s.runtime.start({ message: "beta" });
    await stepUntil(s, () => hangs() > 0);
    expect(hangs()).toBe(1);
    expect(compactions(s)).toHaveLength(1);
    const fresh = await redriven(s);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(calls).toHaveLength(1);
    expect(compactions(fresh)).toHaveLength(1);
    // The redriven attempt was sent the committed summary.
    const steps = fresh.runtime.ledger.read(0).filter((e) => e.kind === "step.started");
    expect(steps.at(-1)?.data).toMatchObject({ attempt: 2 });
    expect(prompts.at(-1)?.some(isSummary)).toBe(true);
  });

  it("a regenerate of a run that a compaction summarized drops the summary", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { summarize } = recording();
    // alpha: one lookup; long beta: five; beta again: one.
    const plan = ["tool", "text", ...Array(5).fill("tool"), "text", "tool", "text"];
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 2, compactAfterMessages: 4, summarize },
        { model: planned(prompts, plan) },
      ),
    );
    await runs(s, ["alpha", "long beta"]);
    const made = compactions(s);
    expect(made.length).toBeGreaterThan(0);
    // long beta's own messages are summarized: regenerating it hides them.
    const betaUser = listMessages(s.sql, 0, 100).find(
      (m) => m.runId === "run_2" && m.role === "user",
    );
    expect((made.at(-1)?.data.throughIndex as number) >= (betaUser?.index as number)).toBe(true);
    const seen = prompts.length;
    await s.runtime.start({ message: "beta again", replaces: "run_2" });
    // Nothing the conversation no longer shows is summarized in the active compaction.
    const active = activeCompaction(s.sql);
    expect(active === undefined || active.throughIndex < (betaUser?.index as number)).toBe(true);
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(prompts.length).toBe(seen + 2);
    for (const prompt of prompts.slice(seen))
      expect(JSON.stringify(prompt)).not.toContain("long beta");
  });

  it("a fork before a compaction has none; a fork after it keeps it", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const { summarize } = recording();
    const words = wordsAgent(prompts, { keepMessages: 3, compactAfterMessages: 6, summarize });
    const s = createTestSession(words);
    await runs(s, ["alpha", "beta"]);
    const [made] = compactions(s);
    const checkpoints = listCheckpoints(s.sql, 0, 50);
    const before = checkpoints.filter((c) => c.seq < (made?.seq as number)).at(-1);
    const after = checkpoints.find((c) => c.seq > (made?.seq as number));
    for (const [at, kept] of [
      [before, false],
      [after, true],
    ] as const) {
      const fork = createTestSession(words);
      fork.runtime.importFork(s.runtime.forkPrefix(at?.id as string), "test fork");
      expect(activeCompaction(fork.sql)?.summary).toBe(kept ? made?.data.summary : undefined);
    }
  });

  it("the default summarizer is the agent's own model, its usage counted", async () => {
    const prompts: LanguageModelV4Prompt[] = [];
    const summaries: LanguageModelV4Prompt[] = [];
    const base = scriptedModel({
      modelId: "words-model",
      rules: [
        ({ prompt }) => {
          if (prompt[0]?.role === "system" && prompt[0].content !== SYSTEM) {
            summaries.push(prompt);
            return { text: "they looked up alpha" };
          }
          return undefined;
        },
        ({ turn, userText }) =>
          turn === 0
            ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
            : { text: `looked up ${userText}` },
      ],
    });
    const s = createTestSession(
      wordsAgent(
        prompts,
        { keepMessages: 3, compactAfterMessages: 6, instructions: "Summarize." },
        { model: base },
      ),
    );
    await runs(s, ["alpha", "beta"]);
    const [event] = compactions(s);
    expect(event?.data).toMatchObject({
      summary: "they looked up alpha",
      model: "scripted:words-model",
    });
    expect(event?.data.usage?.inputTokens).toBeGreaterThan(0);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.[0]).toEqual({ role: "system", content: "Summarize." });
    const transcript = JSON.stringify(summaries[0]?.[1]);
    expect(transcript).toContain("user: alpha");
    expect(transcript).toContain("assistant called lookup");
    expect(transcript).toContain("tool lookup returned");
    // Counted as a call of the agent's model: 4 steps and 1 summary.
    const models = usageSummary(s.sql).models;
    expect(models.find((m) => m.model === "scripted:words-model")?.calls).toBe(5);
  });

  it("refuses a context option that would compact every step", () => {
    expect(() => wordsAgent([], { keepMessages: 6, compactAfterMessages: 6 })).toThrow(
      /compactAfterMessages \(6\) must be above context.keepMessages \(6\)/,
    );
    expect(() => wordsAgent([], { keepMessages: 0, compactAfterMessages: 6 })).toThrow(
      /context.keepMessages/,
    );
  });
});
