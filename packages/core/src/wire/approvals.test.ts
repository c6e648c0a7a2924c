import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { uiMessageChunkSchema } from "ai";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { bankerDecided } from "../../test/fixtures.ts";
import { defineAgent, defineTool, scriptedModel } from "../index.ts";
import { createTestSession } from "../testing/test-session.ts";
import { createAguiProjector } from "./agui/agui-projector.ts";
import { createUiStreamProjector } from "./ui-stream/ui-stream-projector.ts";

async function approvedRun() {
  const { s, waiting, callId } = await bankerDecided(true);
  await s.drain();
  return { waiting, events: s.runtime.ledger.read(0), callId };
}

describe("a run that waits for an approval, then resumes", () => {
  it("AG-UI: RUN_FINISHED with an interrupt for the tool call, then a new run that succeeds", async () => {
    const { waiting, events, callId } = await approvedRun();
    expect(waiting.at(-1)?.kind).toBe("run.waiting");
    const agui = createAguiProjector({ threadId: "s1" });
    const out = events.flatMap((e) => agui.map(e));
    for (const event of out) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    const finished = out.filter((e) => e.type === "RUN_FINISHED");
    expect(finished[0]).toMatchObject({
      outcome: { type: "interrupt", interrupts: [{ id: callId, toolCallId: callId }] },
    });
    expect(finished.at(-1)).toMatchObject({ outcome: { type: "success" } });
    expect(out.filter((e) => e.type === "RUN_STARTED")).toHaveLength(2);
  });

  it("UI stream: a tool-approval-request, valid chunks, finish after the resume", async () => {
    const { events, callId } = await approvedRun();
    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e));
    const schema = await uiMessageChunkSchema();
    for (const chunk of chunks) expect((await schema.validate?.(chunk))?.success).toBe(true);
    expect(chunks).toContainEqual({
      type: "tool-approval-request",
      approvalId: callId,
      toolCallId: callId,
    });
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
  });
});

const localTime = defineTool({
  name: "local_time",
  description: "The browser's local time: the client answers it.",
  input: z.object({}),
  effect: "pure",
  client: true,
  execute: () => ({ time: "the server's" }),
});

const clock = defineAgent({
  name: "clock",
  system: "You tell the time.",
  tools: [localTime],
  model: scriptedModel({
    turns: [{ toolCalls: [{ name: "local_time", args: {} }] }, { text: "It is late." }],
  }),
});

describe("a client-side tool (client: true): the run waits for the client's output", () => {
  it("the ledger marks the wait as the client's; the UI stream asks no approval; AG-UI asks for the result", async () => {
    const s = createTestSession(clock);
    await s.runtime.start({ message: "what time is it?" });
    await s.drain();
    const waiting = s.runtime.ledger.read(0);
    const requested = waiting.find((e) => e.kind === "approval.requested");
    if (requested?.kind !== "approval.requested") throw new Error("the run did not wait");
    expect(requested.data.client).toBe(true);
    expect(waiting.at(-1)).toMatchObject({ kind: "run.waiting", data: { reason: "approval" } });
    const { callId } = requested.data;
    await s.runtime.resume({ approvals: [{ callId, approved: true, result: { time: "17:00" } }] });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(events.find((e) => e.kind === "tool.completed")?.data).toMatchObject({
      result: { time: "17:00" },
    });

    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e));
    const schema = await uiMessageChunkSchema();
    for (const chunk of chunks) expect((await schema.validate?.(chunk))?.success).toBe(true);
    expect(chunks.map((c) => c.type)).not.toContain("tool-approval-request");
    expect(chunks.map((c) => c.type)).not.toContain("tool-approval-response");
    expect(chunks).toContainEqual(
      expect.objectContaining({ type: "tool-input-available", toolCallId: callId }),
    );
    expect(chunks).toContainEqual({
      type: "tool-output-available",
      toolCallId: callId,
      output: { time: "17:00" },
    });

    const agui = createAguiProjector({ threadId: "s1" });
    const out = events.flatMap((e) => agui.map(e));
    await lastValueFrom(from(out as never[]).pipe(verifyEvents(false), toArray()));
    expect(out.find((e) => e.type === "RUN_FINISHED")).toMatchObject({
      outcome: {
        type: "interrupt",
        interrupts: [
          {
            id: callId,
            reason: "client_tool",
            responseSchema: { required: ["result"] },
          },
        ],
      },
    });
  });
});
