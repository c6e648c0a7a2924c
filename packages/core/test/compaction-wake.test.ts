/**
 * What a woken object reads for a compacted prompt, and how a rewind treats a compaction, on the
 * ledger alone (the messages projection and the prompt cache): the first prompt after a wake
 * runs the same statements and reads the same rows at 20 and at 4,000 messages (a rowid range
 * after the compaction's `throughIndex`); a checkpoint rewind that hides a summarized message
 * drops the summary, and one that hides only kept messages does not.
 */
import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { lastInputTokens } from "../src/agent/context-compaction.ts";
import { MessageCache, summaryMessage } from "../src/agent/message-cache.ts";
import { convert } from "../src/agent/prompt.ts";
import type { NewEvent } from "../src/ledger/events.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { activeCompaction } from "../src/ledger/projections/compactions.ts";
import { changedMessages } from "../src/ledger/projections/message-reads.ts";
import { messagesProjection } from "../src/ledger/projections/messages.ts";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { NodeSqlPort } from "../src/testing/node-sqlite.ts";

const SYSTEM = "You are a test.";
const usage = { inputTokens: 1, outputTokens: 1 };

/** One run: its user message, a tool call and its result, then the answer (4 messages). */
function turn(runId: string): NewEvent[] {
  return [
    { kind: "run.started", runId, data: { agent: "a", input: { message: `hello ${runId}` } } },
    { kind: "step.started", runId, data: { step: 1, attempt: 1 } },
    {
      kind: "model.completed",
      runId,
      data: {
        step: 1,
        text: "",
        toolCalls: [{ callId: "c1", name: "t", args: { q: runId } }],
        finishReason: "tool-calls",
        usage,
        model: "m",
      },
    },
    { kind: "tool.completed", runId, data: { step: 1, callId: "c1", name: "t", result: runId } },
    { kind: "step.completed", runId, data: { step: 1 } },
    { kind: "step.started", runId, data: { step: 2, attempt: 1 } },
    {
      kind: "model.completed",
      runId,
      data: {
        step: 2,
        text: `answer ${runId}`,
        toolCalls: [],
        finishReason: "stop",
        usage,
        model: "m",
      },
    },
    { kind: "step.completed", runId, data: { step: 2 } },
    { kind: "run.completed", runId, data: { output: null } },
  ];
}

const compacted = (runId: string, throughIndex: number, summary: string): NewEvent => ({
  kind: "context.compacted",
  runId,
  data: { step: 1, throughIndex, summary, messages: 0 },
});

function session(runs: number) {
  const sql = new NodeSqlPort();
  const ledger = new Ledger(sql, new ManualClock(), [messagesProjection]);
  for (let i = 1; i <= runs; i++) ledger.append(turn(`r${i}`));
  return { sql, ledger };
}

/** The whole conversation converted message by message, with indexes (the reference). */
function conversation(sql: NodeSqlPort): { index: number; message: LanguageModelV4Message }[] {
  return changedMessages(sql, 0).flatMap((m) => {
    const message = m.parts.length > 0 ? convert(m) : undefined;
    return message ? [{ index: m.index, message }] : [];
  });
}

/** The prompt a compaction through `through` with `summary` must give: built from the full conversation. */
function expected(sql: NodeSqlPort, through: number, summary: string): LanguageModelV4Prompt {
  const tail = conversation(sql).filter((m) => m.index > through);
  return [
    { role: "system", content: SYSTEM },
    summaryMessage(summary),
    ...tail.map((m) => m.message),
  ];
}

/** Counts the statements a port runs, with their SQL and parameters. */
function spy(sql: NodeSqlPort): { query: string; params: unknown[] }[] {
  const ran: { query: string; params: unknown[] }[] = [];
  const exec = sql.exec.bind(sql);
  sql.exec = ((query: string, ...params: never[]) => {
    ran.push({ query, params });
    return exec(query, ...params);
  }) as typeof sql.exec;
  return ran;
}

describe("a woken object's compacted prompt", () => {
  it("reads the same statements and rows at 20 and at 4,000 messages: a range after the compaction", () => {
    const read: { statements: string[]; messages: number }[] = [];
    for (const runs of [5, 1000]) {
      const { sql, ledger } = session(runs);
      // Keep the last two runs (8 messages) word for word.
      const through = (runs - 2) * 4;
      ledger.append([compacted(`r${runs}`, through, `the first ${runs - 2} runs`)]);
      const ran = spy(sql);
      const prompt = new MessageCache(sql, { compacted: true }).prompt(SYSTEM, ledger.tail);
      // What the woken cache ran (before the reference below reads the projection too).
      const statements = ran.map((r) => r.query);
      expect(JSON.stringify(prompt)).toBe(
        JSON.stringify(expected(sql, through, `the first ${runs - 2} runs`)),
      );
      expect(prompt).toHaveLength(10);
      read.push({ statements, messages: prompt.length });
      // The prompt's rows are a range of the rowid, searched, not a scan of the table.
      const rows = ran.find((r) => r.query.includes("group_concat(p"));
      if (!rows) throw new Error("the prompt was not read");
      expect(rows.params).toEqual([through, Number.MAX_SAFE_INTEGER]);
      const plan = sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${rows.query}`, ...(rows.params as never[]))
        .map((r) => r.detail);
      expect(
        plan.some((d) =>
          /SEARCH messages USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/.test(d),
        ),
      ).toBe(true);
      expect(plan.some((d) => /^SCAN messages\b/.test(d))).toBe(false);
    }
    expect(read[1]).toEqual(read[0]);
    expect(read[0]?.statements).toHaveLength(2);
  });

  it("the token trigger reads the last model call after the compaction: a search of the ledger's tail, not a scan", () => {
    const { sql, ledger } = session(1000);
    const last = ledger.latest("model.completed");
    expect(lastInputTokens(ledger, sql, 0)).toBe(last?.data.usage.inputTokens);
    ledger.append([compacted("r1000", 3992, "the first 998 runs")]);
    const seq = ledger.tail;
    // The call before the compaction measured a prompt since compacted: stale, no figure.
    const ran = spy(sql);
    expect(lastInputTokens(ledger, sql, seq)).toBeUndefined();
    const [read] = ran;
    expect(ran).toHaveLength(1);
    if (!read) throw new Error("the ledger was not read");
    const plan = sql
      .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${read.query}`, ...(read.params as never[]))
      .map((r) => r.detail);
    expect(
      plan.some((d) => /SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/.test(d)),
    ).toBe(true);
    expect(plan.some((d) => /^SCAN events\b/.test(d))).toBe(false);
    // A call after it counts; whether a message was hidden since is a search of the rows
    // changed after it (messages_by_seq), not a scan.
    ledger.append(turn("r1001").slice(0, 3));
    const again = spy(sql);
    expect(lastInputTokens(ledger, sql, seq)).toBe(usage.inputTokens);
    expect(again).toHaveLength(2);
    for (const { query, params } of again.splice(0)) {
      const detail = sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...(params as never[]))
        .map((r) => r.detail);
      expect(detail.some((d) => /^SCAN /.test(d))).toBe(false);
    }
  });

  it("without the context option, the same ledger sends every message (the default is unchanged)", () => {
    const { sql, ledger } = session(5);
    ledger.append([compacted("r5", 12, "ignored")]);
    const prompt = new MessageCache(sql).prompt(SYSTEM, ledger.tail);
    expect(prompt).toHaveLength(21);
  });

  it("a rewind that hides a summarized message drops the compaction; one that hides only kept ones does not", () => {
    const { sql, ledger } = session(3);
    // A long fourth run: its user message, two tool steps, then a compaction inside it.
    ledger.append(turn("r4").slice(0, 5));
    const r4User = conversation(sql).find(
      (m) => m.message.role === "user" && JSON.stringify(m.message).includes("hello r4"),
    );
    const checkpoint = ledger.tail; // step 1 of r4 completed
    ledger.append([
      { kind: "step.started", runId: "r4", data: { step: 2, attempt: 1 } },
      {
        kind: "model.completed",
        runId: "r4",
        data: {
          step: 2,
          text: "",
          toolCalls: [{ callId: "c2", name: "t", args: {} }],
          finishReason: "tool-calls",
          usage,
          model: "m",
        },
      },
      {
        kind: "tool.completed",
        runId: "r4",
        data: { step: 2, callId: "c2", name: "t", result: 2 },
      },
      { kind: "step.completed", runId: "r4", data: { step: 2 } },
    ]);
    const cache = new MessageCache(sql, { compacted: true });
    // Compaction A covers runs 1-3 only; compaction B also r4's first step.
    ledger.append([compacted("r4", 12, "A")]);
    expect(activeCompaction(sql)?.summary).toBe("A");
    const r4Tool = (r4User?.index as number) + 2;
    ledger.append([compacted("r4", r4Tool, "A+B")]);
    expect(JSON.stringify(cache.prompt(SYSTEM, ledger.tail))).toBe(
      JSON.stringify(expected(sql, r4Tool, "A+B")),
    );

    // Back to the checkpoint after r4's step 1: only step 2's messages (after B) are hidden.
    ledger.append([
      { kind: "run.resumed", runId: "r4", data: { mode: "from_checkpoint", checkpoint } },
    ]);
    expect(activeCompaction(sql)?.summary).toBe("A+B");
    expect(JSON.stringify(cache.prompt(SYSTEM, ledger.tail))).toBe(
      JSON.stringify(expected(sql, r4Tool, "A+B")),
    );

    // Back to before r4's step 1 (its run.started): B summarized r4's step 1, which is now hidden.
    const started = ledger.read(0).find((e) => e.kind === "run.started" && e.runId === "r4");
    ledger.append([
      {
        kind: "run.resumed",
        runId: "r4",
        data: { mode: "from_checkpoint", checkpoint: started?.seq as number },
      },
    ]);
    expect(activeCompaction(sql)?.summary).toBe("A");
    const prompt = cache.prompt(SYSTEM, ledger.tail);
    expect(JSON.stringify(prompt)).toBe(JSON.stringify(expected(sql, 12, "A")));
    expect(JSON.stringify(prompt)).not.toContain("A+B");
    // A fresh cache (a woken object) agrees.
    expect(new MessageCache(sql, { compacted: true }).prompt(SYSTEM, ledger.tail)).toEqual(prompt);

    // A regenerate of r4 hides its user message too; A (runs 1-3) stays.
    ledger.append([
      {
        kind: "run.started",
        runId: "r5",
        data: { agent: "a", input: { message: "again" }, replaces: "r4" },
      },
    ]);
    expect(activeCompaction(sql)?.summary).toBe("A");
    // A regenerate of r3, which A summarized, drops A as well: the whole conversation again.
    ledger.append([
      {
        kind: "run.started",
        runId: "r6",
        data: { agent: "a", input: { message: "again" }, replaces: "r3" },
      },
    ]);
    expect(activeCompaction(sql)).toBeUndefined();
    const whole = cache.prompt(SYSTEM, ledger.tail);
    expect(whole).toEqual([
      { role: "system", content: SYSTEM },
      ...conversation(sql).map((m) => m.message),
    ]);
  });
});
