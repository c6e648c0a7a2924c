/**
 * Reasoning from a provider (the Anthropic fake's thinking blocks, streamed in pieces, through
 * `@ai-sdk/anthropic`) is recorded as it streams (`model.reasoning_delta`, coalesced), then
 * whole at the block's end (`model.reasoning`), and shown as AG-UI `REASONING_*` events and
 * UI-stream reasoning parts, checked by the real clients' schemas and readers. (OpenAI's chat
 * completions API sends no reasoning text, only `reasoning_tokens`, so its fake has none.)
 */

import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { createAnthropic } from "@ai-sdk/anthropic";
import { defineAgent, latestRun } from "@durable-agents/core";
import { createTestSession } from "@durable-agents/core/testing";
import { createAguiProjector, createUiStreamProjector } from "@durable-agents/core/wire";
import { readUIMessageStream, type UIMessageChunk, uiMessageChunkSchema } from "ai";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculator } from "../../examples/quickstart/src/tools/calculator.ts";
import { startAnthropicFake } from "../support/provider-fakes/anthropic-fake.ts";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";

describe("reasoning parts", () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startAnthropicFake();
  });
  afterAll(() => fake.close());

  it("stream as model.reasoning_delta, end as model.reasoning before the step's text, and show on AG-UI and the UI stream", async () => {
    const agent = defineAgent({
      name: "thinker",
      system: "Think, then use the calculator.",
      model: createAnthropic({ apiKey: "test", baseURL: `${fake.baseUrl}/v1` })("claude-haiku-4-5"),
      tools: [calculator],
    });
    // Small coalescing, so the thinking arrives as several deltas (the fake sends 8 characters at a time).
    const s = createTestSession(agent, { coalesce: { maxDelayMs: 50, maxChars: 16 } });
    await s.runtime.start({ message: "What is 3*4?" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    const events = s.runtime.ledger.read(0, 1000);
    const kinds = events.map((e) => e.kind);
    const reasoning = events.find((e) => e.kind === "model.reasoning");
    expect(reasoning?.data).toEqual({
      step: 1,
      text: "The user wants 1 calculation(s); I will use the calculator.",
    });
    expect(kinds.indexOf("model.reasoning")).toBeLessThan(kinds.indexOf("model.delta"));
    const deltas = events.flatMap((e) => (e.kind === "model.reasoning_delta" ? [e.data] : []));
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.every((d) => d.step === 1 && d.text.length >= 16 - 8)).toBe(true);
    expect(deltas.map((d) => d.text).join("")).toBe(reasoning?.data.text);
    // Every delta of the block comes before its end, and the end before the text.
    expect(kinds.lastIndexOf("model.reasoning_delta")).toBeLessThan(
      kinds.indexOf("model.reasoning"),
    );
    expect(kinds.indexOf("model.reasoning_delta")).toBeGreaterThan(kinds.indexOf("step.started"));
    // Reasoning is not part of the conversation the model gets back.
    expect(JSON.stringify(fake.requests.at(-1)?.body.messages)).not.toContain("calculation(s)");

    const agui = createAguiProjector({ threadId: "s1" });
    const out = events.flatMap((e) => agui.map(e));
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    const spans = out.filter((e) => e.type.startsWith("REASONING"));
    expect(spans.map((e) => e.type)).toEqual([
      "REASONING_START",
      "REASONING_MESSAGE_START",
      ...deltas.map(() => "REASONING_MESSAGE_CONTENT"),
      "REASONING_MESSAGE_END",
      "REASONING_END",
    ]);
    expect(spans.filter((e) => e.type === "REASONING_MESSAGE_CONTENT").map((e) => e.delta)).toEqual(
      deltas.map((d) => d.text),
    );
    expect(new Set(spans.map((e) => e.messageId)).size).toBe(1);

    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e)) as UIMessageChunk[];
    expect(chunks.filter((c) => c.type.startsWith("reasoning")).map((c) => c.type)).toEqual([
      "reasoning-start",
      ...deltas.map(() => "reasoning-delta"),
      "reasoning-end",
    ]);
    const schema = await uiMessageChunkSchema();
    for (const chunk of chunks)
      expect((await schema.validate?.(chunk))?.success, JSON.stringify(chunk)).toBe(true);
    const stream = new ReadableStream<UIMessageChunk>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    let last: { parts: { type: string; text?: string }[] } | undefined;
    for await (const message of readUIMessageStream({ stream, terminateOnError: true }))
      last = message;
    const parts = last?.parts ?? [];
    expect(parts.find((p) => p.type === "reasoning")?.text).toBe(reasoning?.data.text);
    expect(parts.findIndex((p) => p.type === "reasoning")).toBeLessThan(
      parts.findIndex((p) => p.type === "text"),
    );
  });
});
