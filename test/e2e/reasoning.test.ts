/**
 * Reasoning parts from a provider (the Anthropic fake's thinking blocks, through
 * `@ai-sdk/anthropic`) are recorded as `model.reasoning` and shown as AG-UI `REASONING_*`
 * events and UI-stream reasoning parts, checked by the real clients' schemas and readers.
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

  it("are recorded as model.reasoning before the step's text, and shown on AG-UI and the UI stream", async () => {
    const agent = defineAgent({
      name: "thinker",
      system: "Think, then use the calculator.",
      model: createAnthropic({ apiKey: "test", baseURL: `${fake.baseUrl}/v1` })("claude-haiku-4-5"),
      tools: [calculator],
    });
    const s = createTestSession(agent);
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

    const agui = createAguiProjector({ threadId: "s1" });
    const out = events.flatMap((e) => agui.map(e));
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    expect(out.filter((e) => e.type.startsWith("REASONING")).map((e) => e.type)).toEqual([
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
    ]);

    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e)) as UIMessageChunk[];
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
