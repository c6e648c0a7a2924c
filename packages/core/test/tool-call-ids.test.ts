import type { LanguageModelV4Prompt } from "@ai-sdk/provider";
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, type LedgerEvent, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { createUiStreamProjector } from "../src/wire/ui-stream/ui-stream-projector.ts";
import { mathAgent } from "./fixtures.ts";

/**
 * The scripted model's tool call ids are unique within a session's conversation, as real
 * providers' are: the AI SDK's `Chat` keys tool parts by `toolCallId` across all its messages
 * (`addToolOutput` updates the first message holding the id), so a second run reusing the
 * first run's ids had its client-side tool output written into the first run's message.
 */

/** Each run's UI message, rebuilt from the ledger by the `ai` package's own reader. */
async function uiMessages(events: readonly LedgerEvent[]): Promise<UIMessage[]> {
  const projector = createUiStreamProjector();
  const byRun = new Map<string, UIMessageChunk[]>();
  for (const event of events) {
    if (event.runId === null) continue;
    const chunks = byRun.get(event.runId) ?? [];
    chunks.push(...(projector.map(event) as UIMessageChunk[]));
    byRun.set(event.runId, chunks);
  }
  const messages: UIMessage[] = [];
  for (const chunks of byRun.values()) {
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream, terminateOnError: true }))
      last = message;
    if (last) messages.push(last);
  }
  return messages;
}

const toolCallIds = (messages: readonly UIMessage[]) =>
  messages.flatMap((m) =>
    m.parts.flatMap((p) => ("toolCallId" in p ? [p.toolCallId as string] : [])),
  );

describe("scripted tool call ids", () => {
  it("two runs of one session: each run's UI message has tool parts of its own ids", async () => {
    const s = createTestSession(mathAgent);
    for (const message of ["What is 2+3?", "And again?"]) {
      await s.runtime.start({ message });
      await s.drain();
    }
    const events = s.runtime.ledger.read(0);
    expect(events.filter((e) => e.kind === "run.completed")).toHaveLength(2);
    const messages = await uiMessages(events);
    expect(messages.map((m) => m.id)).toEqual(["run_1", "run_2"]);
    const ids = toolCallIds(messages);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    // The first run's ids are what they always were; the second run's follow the conversation.
    expect(ids).toEqual(["call_0_0", "call_2_0"]);
  });

  it("a resume with a message mid-run does not repeat the run's earlier ids", async () => {
    const model = scriptedModel({
      rules: [
        ({ userText, turn }) =>
          turn === 0 ? { toolCalls: [{ name: "ask", args: { q: userText } }] } : { text: "ok" },
      ],
    });
    const ask = defineTool({
      name: "ask",
      description: "Needs a human.",
      input: z.object({ q: z.string() }),
      effect: "pure",
      needsApproval: true,
      execute: ({ q }) => q,
    });
    const s = createTestSession(defineAgent({ name: "asker", system: "", tools: [ask], model }));
    await s.runtime.start({ message: "first" });
    await s.drain();
    expect(s.runtime.status().status).toBe("waiting");
    await s.runtime.resume({ mode: "with_message", message: "second" });
    await s.drain();
    const calls = s.runtime.ledger
      .read(0)
      .flatMap((e) => (e.kind === "model.completed" ? e.data.toolCalls.map((c) => c.callId) : []));
    expect(calls).toHaveLength(2);
    expect(new Set(calls).size).toBe(2);
  });

  it("the same prompt gives the same ids: a redriven model call says what the lost one said", async () => {
    const model = scriptedModel({ turns: [{ toolCalls: [{ name: "t", args: {} }] }] });
    const prompt: LanguageModelV4Prompt = [
      { role: "user", content: [{ type: "text", text: "hi" }] },
      {
        role: "assistant",
        content: [{ type: "tool-call", toolCallId: "x", toolName: "t", input: {} }],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "x",
            toolName: "t",
            output: { type: "json", value: 1 },
          },
        ],
      },
    ];
    const ids = async () => {
      const { stream } = await model.doStream({ prompt });
      const out: string[] = [];
      const reader = stream.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read())
        if (read.value.type === "tool-call") out.push(read.value.toolCallId);
      return out;
    };
    const first = await ids();
    expect(first).toEqual(["call_1_0"]);
    expect(await ids()).toEqual(first);
  });
});
