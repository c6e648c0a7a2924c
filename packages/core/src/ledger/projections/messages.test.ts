/** The messages projection: a streamed answer is appended delta by delta, never rewritten. */
import { describe, expect, it } from "vitest";
import { convert } from "../../agent/prompt.ts";
import { ManualClock } from "../../testing/manual-clock.ts";
import { NodeSqlPort } from "../../testing/node-sqlite.ts";
import type { NewEvent } from "../events.ts";
import { Ledger } from "../ledger.ts";
import { readPrompt } from "./message-prompts.ts";
import {
  changedMessages,
  conversationAt,
  listMessages,
  listMessagesBefore,
  messagesAt,
} from "./message-reads.ts";
import { messagesProjection } from "./messages.ts";

const RUN = "run_1";
const started: NewEvent = {
  kind: "run.started",
  runId: RUN,
  data: { agent: "a", input: { message: "hi" } },
};
const step = (attempt: number): NewEvent => ({
  kind: "step.started",
  runId: RUN,
  data: { step: 1, attempt },
});
const delta = (text: string): NewEvent => ({
  kind: "model.delta",
  runId: RUN,
  data: { step: 1, text },
});
const completed = (text: string): NewEvent => ({
  kind: "model.completed",
  runId: RUN,
  data: {
    step: 1,
    text,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 1, outputTokens: 1 },
    model: "m",
  },
});

function setup() {
  const sql = new NodeSqlPort();
  const ledger = new Ledger(sql, new ManualClock(), [messagesProjection]);
  const answer = () => listMessages(sql, 0, 10).find((m) => m.role === "assistant");
  const text = () => {
    const first = answer()?.parts[0];
    return first?.type === "text" ? first.text : undefined;
  };
  const rowBytes = () =>
    sql.exec<{ n: number }>("SELECT length(parts) AS n FROM messages WHERE role = 'assistant'")[0]
      ?.n;
  const deltaRows = () =>
    sql.exec<{ n: number }>("SELECT count(*) AS n FROM message_deltas")[0]?.n ?? 0;
  return { sql, ledger, answer, text, rowBytes, deltaRows };
}

describe("the messages projection, streaming", () => {
  it("shows the answer so far after every delta, while the row itself is not rewritten with it", () => {
    const { ledger, text, rowBytes, sql } = setup();
    ledger.append([started, step(1)]);
    let expected = "";
    let bytes: number | undefined;
    for (let i = 0; i < 200; i++) {
      const piece = `piece ${i}; `;
      const [event] = ledger.append([delta(piece)]);
      expected += piece;
      expect(text()).toBe(expected);
      // The prompt cache reads changes by seq: the row moved to this delta.
      const changed = changedMessages(sql, (event?.seq ?? 1) - 1);
      expect(changed.map((m) => m.parts)).toEqual([[{ type: "text", text: expected }]]);
      bytes ??= rowBytes();
      expect(rowBytes()).toBe(bytes);
    }
  });

  it("model.completed writes the final parts; the run's end drops the deltas", () => {
    const { ledger, text, deltaRows } = setup();
    ledger.append([started, step(1), delta("Hel"), delta("lo")]);
    expect(deltaRows()).toBe(2);
    // The final parts are what the row shows, whatever deltas are still stored.
    ledger.append([completed("Hello!")]);
    expect(text()).toBe("Hello!");
    ledger.append([{ kind: "run.completed", runId: RUN, data: { output: "Hello!" } }]);
    expect(text()).toBe("Hello!");
    expect(deltaRows()).toBe(0);
  });

  it("a run that starts waiting (an approval, a client's tool) drops its finished answers' deltas", () => {
    const { ledger, text, deltaRows } = setup();
    ledger.append([started, step(1), delta("Hel"), delta("lo"), completed("Hello!")]);
    expect(deltaRows()).toBe(2);
    // A wait may last days: the answer's parts are written, so its deltas are not kept for it.
    ledger.append([{ kind: "run.waiting", runId: RUN, data: { reason: "approval" } }]);
    expect(deltaRows()).toBe(0);
    expect(text()).toBe("Hello!");
  });

  it("a run that ends in the middle of an answer keeps that answer's deltas, and only those", () => {
    const { ledger, sql, deltaRows } = setup();
    const other = (kind: "run.started" | "step.started" | "model.delta", data: object) =>
      ({ kind, runId: "run_2", data }) as NewEvent;
    ledger.append([started, step(1), delta("done "), completed("done")]);
    ledger.append([{ kind: "step.started", runId: RUN, data: { step: 2, attempt: 1 } }]);
    ledger.append([{ kind: "model.delta", runId: RUN, data: { step: 2, text: "cut " } }]);
    ledger.append([{ kind: "model.delta", runId: RUN, data: { step: 2, text: "off" } }]);
    // Another run's streaming answer (its ids share the prefix "run_"): not this run's to drop.
    ledger.append([
      other("run.started", { agent: "a", input: { message: "x" } }),
      other("step.started", { step: 1, attempt: 1 }),
      other("model.delta", { step: 1, text: "elsewhere" }),
    ]);
    expect(deltaRows()).toBe(4);
    ledger.append([
      { kind: "run.failed", runId: RUN, data: { error: { code: "x", message: "y" } } },
    ]);
    expect(deltaRows()).toBe(3);
    const texts = listMessages(sql, 0, 10)
      .filter((m) => m.role === "assistant")
      .map((m) => (m.parts[0]?.type === "text" ? m.parts[0].text : undefined));
    expect(texts).toEqual(["done", "cut off", "elsewhere"]);
  });

  it("a redriven step (attempt 2) starts its answer over: the lost attempt's deltas are gone", () => {
    const { ledger, text, answer, deltaRows } = setup();
    ledger.append([started, step(1), delta("lost "), delta("answer")]);
    ledger.append([step(2)]);
    expect(answer()).toBeUndefined(); // emptied, and not shown
    expect(deltaRows()).toBe(0);
    ledger.append([delta("new "), delta("answer")]);
    expect(text()).toBe("new answer");
    ledger.append([completed("new answer")]);
    expect(text()).toBe("new answer");
  });

  it("hides a blank answer until it has visible text", () => {
    const { ledger, text, answer } = setup();
    ledger.append([started, step(1), delta("  "), delta("\n")]);
    expect(answer()).toBeUndefined();
    ledger.append([delta("Yes")]);
    expect(text()).toBe("  \nYes");
    ledger.append([delta(" ")]);
    expect(text()).toBe("  \nYes ");
  });

  it("a rebuild from the ledger (a wake with a new projection version) gives the same conversation", () => {
    const { ledger, sql } = setup();
    ledger.append([started, step(1), delta("partial "), delta("answer")]);
    const before = listMessages(sql, 0, 10);
    ledger.rebuild(["messages"]);
    expect(listMessages(sql, 0, 10)).toEqual(before);
    ledger.append([step(2), delta("again")]);
    const redriven = listMessages(sql, 0, 10);
    ledger.rebuild(["messages"]);
    expect(listMessages(sql, 0, 10)).toEqual(redriven);
    expect(redriven.at(-1)?.parts).toEqual([{ type: "text", text: "again" }]);
  });
});

describe("the messages projection, a step's tool results", () => {
  const CALLS = 12;
  const BIG = 200 * 1024;
  const calls = Array.from({ length: CALLS }, (_, i) => ({
    callId: `c${i}`,
    name: "page",
    args: { i },
  }));
  const askTools: NewEvent = {
    kind: "model.completed",
    runId: RUN,
    data: {
      step: 1,
      text: "",
      toolCalls: calls,
      finishReason: "tool-calls",
      usage: { inputTokens: 1, outputTokens: 1 },
      model: "m",
    },
  };
  // Finished last first; c1 fails with a long message, c2's outcome is unknown.
  const results: NewEvent[] = calls.toReversed().map(({ callId, name }, i): NewEvent => {
    const data = { step: 1, callId, name };
    if (callId === "c1")
      return {
        kind: "tool.failed",
        runId: RUN,
        data: { ...data, error: { code: "e", message: "m".repeat(BIG) } },
      };
    if (callId === "c2") return { kind: "tool.outcome_unknown", runId: RUN, data };
    return {
      kind: "tool.completed",
      runId: RUN,
      data: { ...data, result: { n: i, text: String(i % 10).repeat(BIG) } },
    };
  });

  function wideStep() {
    const { sql, ledger } = setup();
    ledger.append([started, step(1), askTools]);
    for (const result of results) ledger.append([result]);
    const tool = () => listMessages(sql, 0, 10).find((m) => m.role === "tool");
    return { sql, ledger, tool };
  }

  it("keeps every result, in call order, while the step's row stays bounded", () => {
    const { sql, tool } = wideStep();
    const parts = tool()?.parts ?? [];
    expect(parts.map((p) => p.type === "tool-result" && p.callId)).toEqual(
      calls.map((c) => c.callId),
    );
    const STATUS = { "tool.completed": "completed", "tool.failed": "failed" } as const;
    const expected = calls.map(({ callId }) => {
      const event = results.find((r) => (r.data as { callId: string }).callId === callId);
      const { step: _, ...data } = (event?.data ?? {}) as Record<string, unknown>;
      const status = STATUS[event?.kind as keyof typeof STATUS] ?? "outcome_unknown";
      return { type: "tool-result", ...data, status };
    });
    expect(parts).toEqual(expected);
    // Deployed DO SQLite refuses a row over 2 MB; these results together are 2.4 MB.
    const [row] = sql.exec<{ n: number }>(
      "SELECT max(length(CAST(parts AS BLOB)) + coalesce(length(CAST(prompt AS BLOB)), 0)) AS n FROM messages",
    );
    expect(row?.n).toBeLessThan(2_000_000);
  });

  it("every read of the table shows the results, the prompt too, and a rebuild gives the same rows", () => {
    const { sql, ledger, tool } = wideStep();
    const message = tool();
    expect(message?.parts).toHaveLength(CALLS);
    const index = message?.index ?? 0;
    expect(messagesAt(sql, [index])).toEqual([message]);
    expect(listMessagesBefore(sql, null, 10).find((m) => m.index === index)).toEqual(message);
    expect(conversationAt(sql, ledger.tail, 10).find((m) => m.index === index)).toEqual(message);
    expect(changedMessages(sql, 0).find((m) => m.index === index)).toEqual(message);
    const converted = changedMessages(sql, 0).flatMap((m) => convert(m) ?? []);
    expect(readPrompt(sql).messages).toEqual(converted);
    expect(JSON.stringify(converted).length).toBeGreaterThan((CALLS - 1) * BIG);

    const rows = () => sql.exec("SELECT * FROM messages ORDER BY idx");
    const before = rows();
    ledger.rebuild(["messages"]);
    expect(rows()).toEqual(before);
  });
});

describe("the messages projection, row sizes in UTF-8 bytes (DO SQLite's 2 MB is bytes)", () => {
  /** The largest row's parts and prompt, in bytes as SQLite stores them. */
  const widestRow = (sql: NodeSqlPort) =>
    sql.exec<{ n: number }>(
      "SELECT max(length(CAST(parts AS BLOB)) + coalesce(length(CAST(prompt AS BLOB)), 0)) AS n FROM messages",
    )[0]?.n ?? 0;

  // Each answer fits one event (1 MiB of JSON) and is under 1 Mi UTF-16 units with its prompt
  // copy, but 3 (CJK) or 2 (emoji) bytes per unit: parts and prompt together pass 2 MB.
  it.each([
    ["CJK", "中".repeat(340_000)],
    ["emoji", "😀".repeat(255_000)],
  ])("an answer of %s text keeps its row under 2 MB, and the prompt reads it whole", (_, text) => {
    const { sql, ledger } = setup();
    ledger.append([started, step(1), completed(text)]);
    expect(widestRow(sql)).toBeLessThan(2_000_000);
    const converted = changedMessages(sql, 0).flatMap((m) => convert(m) ?? []);
    expect(readPrompt(sql).messages).toEqual(converted);
    expect(JSON.stringify(converted)).toContain(text);
  });

  it("a step's row holds 256 KiB of results in bytes, not characters; the rest by reference", () => {
    const { sql, ledger } = setup();
    const calls = ["c0", "c1", "c2"].map((callId) => ({ callId, name: "page", args: {} }));
    ledger.append([
      started,
      step(1),
      {
        kind: "model.completed",
        runId: RUN,
        data: {
          step: 1,
          text: "",
          toolCalls: calls,
          finishReason: "tool-calls",
          usage: { inputTokens: 1, outputTokens: 1 },
          model: "m",
        },
      },
    ]);
    // 50,000 characters each (150,000 bytes): 150,000 characters together, 450,000 bytes.
    const text = (i: number) => String.fromCharCode(0x4e00 + i).repeat(50_000);
    for (const [i, { callId }] of calls.entries())
      ledger.append([
        {
          kind: "tool.completed",
          runId: RUN,
          data: { step: 1, callId, name: "page", result: text(i) },
        },
      ]);
    const [row] = sql.exec<{ n: number }>(
      "SELECT length(CAST(parts AS BLOB)) AS n FROM messages WHERE role = 'tool'",
    );
    expect(row?.n).toBeLessThanOrEqual(256 * 1024);
    const tool = listMessages(sql, 0, 10).find((m) => m.role === "tool");
    expect(tool?.parts.map((p) => p.type === "tool-result" && p.result)).toEqual(
      calls.map((_, i) => text(i)),
    );
  });
});
