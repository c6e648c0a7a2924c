import type {
  LanguageModelV4,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
} from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { type ScriptContext, scriptedModel } from "./scripted-model.ts";

/** What one doStream call says: its text, its tool calls' ids and names. */
async function answer(model: LanguageModelV4, prompt: LanguageModelV4Prompt) {
  const { stream } = await model.doStream({ prompt });
  let text = "";
  const calls: { id: string; name: string }[] = [];
  const reader = stream.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    const part = read.value;
    if (part.type === "text-delta") text += part.delta;
    if (part.type === "tool-call") calls.push({ id: part.toolCallId, name: part.toolName });
  }
  return { text, calls };
}

const user = (text: string): LanguageModelV4Message => ({
  role: "user",
  content: [{ type: "text", text }],
});
const said = (text: string): LanguageModelV4Message => ({
  role: "assistant",
  content: [{ type: "text", text }],
});
const called = (id: string, text?: string): LanguageModelV4Message => ({
  role: "assistant",
  content: [
    ...(text ? [{ type: "text" as const, text }] : []),
    { type: "tool-call", toolCallId: id, toolName: "calculator", input: {} },
  ],
});
const result = (id: string, value: unknown): LanguageModelV4Message => ({
  role: "tool",
  content: [
    {
      type: "tool-result",
      toolCallId: id,
      toolName: "calculator",
      output: { type: "json", value: value as null },
    },
  ],
});

/** The demo's calculator rule (examples/quickstart/src/model.ts), recording what it was told. */
function calculatorModel() {
  const seen: Pick<ScriptContext, "turn" | "toolResults">[] = [];
  const model = scriptedModel({
    rules: [
      ({ turn, toolResults }) => {
        seen.push({ turn, toolResults });
        if (turn === 0)
          return {
            text: "Let me calculate that. ",
            toolCalls: [{ name: "calculator", args: { expression: "(2+3)*4" } }],
          };
        const output = toolResults[0]?.output as { result?: number } | undefined;
        return { text: `(2+3)*4 = ${output?.result ?? "?"}.` };
      },
    ],
  });
  return { model, seen };
}

describe("the scripted model after an interrupt and a continue", () => {
  // The prompts below are what the runtime sends after `interrupt` stopped the answer mid-stream
  // (its partial text kept as the step's assistant message) and `resume({ mode: "continue" })`.
  it("a first answer cut mid-text is not a finished tool turn: the model starts the turn again", async () => {
    const { model, seen } = calculatorModel();
    const out = await answer(model, [user("What is (2+3)*4?"), said("Let me calcu")]);
    expect(seen.at(-1)).toEqual({ turn: 0, toolResults: [] });
    expect(out.calls).toEqual([{ id: "call_1_0", name: "calculator" }]);
  });

  it("a final answer cut mid-text still sees the tool round before it and its results", async () => {
    const { model, seen } = calculatorModel();
    const out = await answer(model, [
      user("What is (2+3)*4?"),
      called("call_0_0", "Let me calculate that. "),
      result("call_0_0", { result: 20 }),
      said("(2+3)*4 ="),
    ]);
    expect(seen.at(-1)).toEqual({
      turn: 1,
      toolResults: [{ name: "calculator", output: { result: 20 } }],
    });
    expect(out).toEqual({ text: "(2+3)*4 = 20.", calls: [] });
  });

  it("counts tool rounds, whatever text-only turns sit between them", async () => {
    const { seen, model } = calculatorModel();
    await answer(model, [
      user("What is (2+3)*4?"),
      said("Let me"),
      called("call_1_0", "Let me calculate that. "),
      result("call_1_0", { result: 20 }),
    ]);
    expect(seen.at(-1)).toEqual({
      turn: 1,
      toolResults: [{ name: "calculator", output: { result: 20 } }],
    });
  });
});

/** The rule before ids were read from the tail: every assistant message in the prompt counted. */
const countedTurns = (prompt: LanguageModelV4Prompt) =>
  prompt.filter((m) => m.role === "assistant").length;

/** The turn and results as the model read them before (for prompts without a cut answer). */
function countedContext(prompt: LanguageModelV4Prompt) {
  let lastUser = prompt.length - 1;
  while (lastUser >= 0 && prompt[lastUser]?.role !== "user") lastUser--;
  const after = prompt.slice(lastUser + 1);
  const last = after.at(-1);
  return {
    turn: after.filter((m) => m.role === "assistant").length,
    toolResults:
      last?.role === "tool"
        ? last.content.flatMap((p) =>
            p.type === "tool-result"
              ? [{ name: p.toolName, output: "value" in p.output ? p.output.value : null }]
              : [],
          )
        : [],
  };
}

describe("the scripted model on a long conversation", () => {
  it("gives the ids and decisions that counting the whole prompt gave, call after call", async () => {
    const seen: Pick<ScriptContext, "turn" | "toolResults">[] = [];
    const model = scriptedModel({
      rules: [
        ({ userText, turn, toolResults }) => {
          seen.push({ turn, toolResults });
          const rounds = Number(userText.match(/^work (\d)/)?.[1] ?? 0);
          if (turn >= rounds) return { text: `Done after ${turn} round(s).` };
          const calls = Array.from({ length: 1 + (turn % 2) }, (_, i) => ({
            name: "calculator",
            args: { a: turn, b: i },
          }));
          return { text: turn % 3 === 0 ? "" : "Working. ", toolCalls: calls };
        },
      ],
    });
    // A history the model did not write first (a foreign tool call id), then runs like the
    // runtime's: each call's answer and its tool results appended, as the projection does.
    const prompt: LanguageModelV4Message[] = [
      { role: "system", content: "You add numbers." },
      user("earlier"),
      called("toolu_01", "Imported."),
      result("toolu_01", 1),
      said("Imported answer."),
    ];
    let calls = 0;
    for (let run = 0; prompt.length < 3000; run++) {
      prompt.push(user(run % 4 === 3 ? "hello" : `work ${run % 4} (${run})`));
      for (;;) {
        const before = [...prompt];
        const out = await answer(model, before);
        calls++;
        expect(seen.at(-1)).toEqual(countedContext(before));
        const n = countedTurns(before);
        expect(out.calls.map((c) => c.id)).toEqual(out.calls.map((_, i) => `call_${n}_${i}`));
        if (out.calls.length === 0) {
          prompt.push(said(out.text));
          break;
        }
        prompt.push({
          role: "assistant",
          content: [
            ...(out.text ? [{ type: "text" as const, text: out.text }] : []),
            ...out.calls.map((c) => ({
              type: "tool-call" as const,
              toolCallId: c.id,
              toolName: c.name,
              input: {},
            })),
          ],
        });
        prompt.push({
          role: "tool",
          content: out.calls.map((c, i) => ({
            type: "tool-result" as const,
            toolCallId: c.id,
            toolName: c.name,
            output: { type: "json" as const, value: i },
          })),
        });
      }
    }
    expect(calls).toBeGreaterThan(1000);
  });
});

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("scriptedModel text deltas", () => {
  /** The text deltas of one doStream call. */
  async function deltas(model: LanguageModelV4): Promise<string[]> {
    const { stream } = await model.doStream({ prompt: [user("hi")] });
    const out: string[] = [];
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read())
      if (read.value.type === "text-delta") out.push(read.value.delta);
    return out;
  }

  it("are cut by code points: no delta holds half a surrogate pair (half an emoji)", async () => {
    const text = "a😀b👩‍👧 c🎉🎉🎉";
    for (const chunkSize of [1, 2, 3, 8]) {
      const parts = await deltas(scriptedModel({ chunkSize, turns: [{ text }] }));
      expect(parts.join(""), `chunkSize ${chunkSize}`).toBe(text);
      // A lone surrogate (half a pair) is what the old UTF-16 cut left at a delta's edge.
      for (const part of parts) expect(part, JSON.stringify(part)).not.toMatch(LONE_SURROGATE);
      expect(parts.map((p) => Array.from(p).length).slice(0, -1)).toEqual(
        Array(parts.length - 1).fill(chunkSize),
      );
    }
  });
});
