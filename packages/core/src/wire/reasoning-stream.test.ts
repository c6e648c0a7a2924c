import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { readUIMessageStream, type UIMessageChunk, uiMessageChunkSchema } from "ai";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../ledger/events.ts";
import { createAguiProjector } from "./agui/agui-projector.ts";
import { createUiStreamProjector } from "./ui-stream/ui-stream-projector.ts";

const base = { runId: "r1", ts: 0 };
const started = {
  ...base,
  seq: 1,
  kind: "run.started",
  data: { agent: "a", input: { message: "hi" } },
};
const step = (seq: number, attempt = 1) =>
  ({ ...base, seq, kind: "step.started", data: { step: 1, attempt } }) as const;
const thought = (seq: number, text: string) =>
  ({ ...base, seq, kind: "model.reasoning_delta", data: { step: 1, text } }) as const;
const completed = (seq: number, text: string, finishReason = "stop") => ({
  ...base,
  seq,
  kind: "model.completed",
  data: {
    step: 1,
    text,
    toolCalls: [],
    finishReason,
    usage: { inputTokens: 1, outputTokens: 1 },
    model: "m",
  },
});

/** Two blocks in one step (thinking, text, thinking cut short by an interrupt). */
const interrupted = [
  started,
  step(2),
  thought(3, "First I "),
  thought(4, "add."),
  { ...base, seq: 5, kind: "model.reasoning", data: { step: 1, text: "First I add." } },
  { ...base, seq: 6, kind: "model.delta", data: { step: 1, text: "Hm" } },
  thought(7, "Then I"),
  completed(8, "Hm", "interrupted"),
  { ...base, seq: 9, kind: "step.completed", data: { step: 1 } },
  { ...base, seq: 10, kind: "run.interrupted", data: { reason: "stop" } },
] as LedgerEvent[];

/** A ledger written before reasoning streamed: the whole block only. */
const legacy = [
  started,
  step(2),
  { ...base, seq: 3, kind: "model.reasoning", data: { step: 1, text: "Whole." } },
  { ...base, seq: 4, kind: "model.delta", data: { step: 1, text: "Hi" } },
  completed(5, "Hi"),
  { ...base, seq: 6, kind: "step.completed", data: { step: 1 } },
  { ...base, seq: 7, kind: "run.completed", data: { output: "Hi" } },
] as LedgerEvent[];

async function agui(events: LedgerEvent[]) {
  const projector = createAguiProjector({ threadId: "s1" });
  const out = events.flatMap((e) => projector.map(e));
  for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
  await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
  return out.filter((e) => e.type.startsWith("REASONING"));
}

async function ui(events: LedgerEvent[]) {
  const projector = createUiStreamProjector();
  const chunks = events.flatMap((e) => projector.map(e)) as UIMessageChunk[];
  const schema = await uiMessageChunkSchema();
  for (const chunk of chunks) expect((await schema.validate?.(chunk))?.success).toBe(true);
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  let last: { parts: { type: string; text?: string; state?: string }[] } | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true }))
    last = message;
  return (last?.parts ?? [])
    .filter((p) => p.type !== "step-start")
    .map(({ type, text, state }) => ({ type, text, state }));
}

describe("reasoning as it streams (model.reasoning_delta), on AG-UI and the UI stream", () => {
  it("each block is its own span, and one cut short is closed before the run ends", async () => {
    const spans = await agui(interrupted);
    expect(spans.map((e) => [e.type, e.messageId, e.delta])).toEqual([
      ["REASONING_START", "r1:1:a:reasoning:3", undefined],
      ["REASONING_MESSAGE_START", "r1:1:a:reasoning:3", undefined],
      ["REASONING_MESSAGE_CONTENT", "r1:1:a:reasoning:3", "First I "],
      ["REASONING_MESSAGE_CONTENT", "r1:1:a:reasoning:3", "add."],
      ["REASONING_MESSAGE_END", "r1:1:a:reasoning:3", undefined],
      ["REASONING_END", "r1:1:a:reasoning:3", undefined],
      ["REASONING_START", "r1:1:a:reasoning:7", undefined],
      ["REASONING_MESSAGE_START", "r1:1:a:reasoning:7", undefined],
      ["REASONING_MESSAGE_CONTENT", "r1:1:a:reasoning:7", "Then I"],
      ["REASONING_MESSAGE_END", "r1:1:a:reasoning:7", undefined],
      ["REASONING_END", "r1:1:a:reasoning:7", undefined],
    ]);
    expect(await ui(interrupted)).toEqual([
      { type: "reasoning", text: "First I add.", state: "done" },
      { type: "text", text: "Hm", state: "done" },
      { type: "reasoning", text: "Then I", state: "done" },
    ]);
  });

  it("a whole block without deltas (an older ledger) is still one span", async () => {
    expect((await agui(legacy)).map((e) => e.type)).toEqual([
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
    ]);
    expect(await ui(legacy)).toEqual([
      { type: "reasoning", text: "Whole.", state: "done" },
      { type: "text", text: "Hi", state: "done" },
    ]);
  });

  it("the partial reasoning of a lost attempt is dropped with the step (reset-step)", async () => {
    const retried = [
      started,
      step(2),
      thought(3, "lost"),
      step(4, 2),
      thought(5, "kept"),
      { ...base, seq: 6, kind: "model.reasoning", data: { step: 1, text: "kept" } },
      { ...base, seq: 7, kind: "model.delta", data: { step: 1, text: "Hi" } },
      completed(8, "Hi"),
      { ...base, seq: 9, kind: "step.completed", data: { step: 1 } },
      { ...base, seq: 10, kind: "run.completed", data: { output: "Hi" } },
    ] as LedgerEvent[];
    expect(await ui(retried)).toEqual([
      { type: "reasoning", text: "kept", state: "done" },
      { type: "text", text: "Hi", state: "done" },
    ]);
    const spans = await agui(retried);
    expect(spans.filter((e) => e.type === "REASONING_END").map((e) => e.messageId)).toEqual([
      "r1:1:a:reasoning:3",
      "r1:1:a:reasoning:5",
    ]);
  });
});
