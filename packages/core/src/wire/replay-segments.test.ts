import { verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import type { UIMessage } from "ai";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { rebuildMessage, uiChunks } from "../../../../test/support/ui-message.ts";
import { bankerDecided, httpContext, mathAgent } from "../../test/fixtures.ts";
import { handleSessionRequest } from "../http/session-handler.ts";
import { DEFAULT_LIVE_READ } from "../streams/ledger-source.ts";
import { createTestSession, type TestSession } from "../testing/test-session.ts";

/**
 * Regression: a stream bound to a run ended at the run's first pause (`run.interrupted`,
 * `run.waiting`) even when the same run was resumed later, so a client that resumed
 * while the run was running again never saw the rest of it.
 */
function get(t: TestSession, action: string): Promise<Response> {
  // The session's manual clock does not move by itself: deliver each append, no window.
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 } });
  return handleSessionRequest(new Request(`http://x/agents/a/s1/${action}`), action, ctx);
}

/** The `data:` payloads of an SSE body, read until `stop` holds or the body ends. */
async function frames(response: Response, stop: (data: unknown) => boolean = () => false) {
  const out: unknown[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const data = buffer
          .slice(0, end)
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("");
        buffer = buffer.slice(end + 2);
        if (data === "" || data === "[DONE]") continue;
        out.push(JSON.parse(data));
        if (stop(out.at(-1))) return out;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const texts = (m: UIMessage | undefined) =>
  m?.parts.flatMap((p) => (p.type === "text" ? [p.text] : []));

describe("a replay of a run that paused and was resumed", () => {
  it("UI stream: interrupted, then resumed with continue: the replay reaches the final text", async () => {
    const t = createTestSession(mathAgent);
    await t.runtime.start({ message: "add" });
    await t.runtime.interrupt("stop for now");
    await t.drain();
    expect(t.runtime.status().status).toBe("interrupted");
    await t.runtime.resume({ mode: "continue" });
    // Resumed and running: useChat's resume (GET without a position) replays the run.
    const response = await get(t, "ui-stream");
    expect(response.status).toBe(200);
    const read = response.text();
    await t.drain();
    const body = await read;
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    const chunks = uiChunks(body);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    const message = await rebuildMessage(chunks, { validate: true });
    expect(texts(message)).toEqual(["Let me add.", "The answer is 5."]);
    expect(message?.parts).toContainEqual(
      expect.objectContaining({ type: "tool-calculator", state: "output-available", output: 5 }),
    );
  });

  it("UI stream: waited for an approval, approved: the replay reaches the tool output and the final text", async () => {
    const { s: t } = await bankerDecided(true);
    const response = await get(t, "ui-stream");
    const read = response.text();
    await t.drain();
    const chunks = uiChunks(await read);
    expect(chunks.map((c) => c.type)).toContain("tool-output-available");
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    const message = await rebuildMessage(chunks, { validate: true });
    expect(texts(message)).toEqual(["Moving it.", "Moved."]);
    expect(message?.parts).toContainEqual(
      expect.objectContaining({
        type: "tool-transfer",
        state: "output-available",
        output: { moved: 5 },
      }),
    );
  });

  it("UI stream: a denial shows as output-denied, not as an error", async () => {
    const { s: t } = await bankerDecided(false);
    const response = await get(t, "ui-stream");
    const read = response.text();
    await t.drain();
    const message = await rebuildMessage(uiChunks(await read), { validate: true });
    const part = message?.parts.find((p) => p.type === "tool-transfer");
    expect(part).toMatchObject({ state: "output-denied" });
  });

  it("AG-UI: the replay of an approved run ends the first segment with an interrupt, then succeeds; verifyEvents passes", async () => {
    const { s: t, callId } = await bankerDecided(true);
    await t.drain();
    const events = (await frames(
      await get(t, "agui"),
      (e) =>
        (e as { type: string; outcome?: { type: string } }).type === "RUN_FINISHED" &&
        (e as { outcome: { type: string } }).outcome.type === "success",
    )) as { type: string; outcome?: { type: string } }[];
    for (const event of events) expect(EventSchemas.safeParse(event).error).toBeUndefined();
    await lastValueFrom(from(events as never[]).pipe(verifyEvents(false), toArray()));
    expect(events.filter((e) => e.type === "RUN_FINISHED").map((e) => e.outcome?.type)).toEqual([
      "interrupt",
      "success",
    ]);
    expect(events.map((e) => e.type)).toContain("TOOL_CALL_RESULT");
    // The resume run's snapshot is the conversation at the resume: the run's user message and
    // its tool-call message (HttpAgent keeps only what a snapshot lists), not the result the
    // stream sends next.
    const snapshots = events.filter((e) => e.type === "MESSAGES_SNAPSHOT") as unknown as {
      messages: { role: string; toolCalls?: { id: string }[] }[];
    }[];
    expect(snapshots.map((s) => s.messages.map((m) => m.role))).toEqual([
      ["user"],
      ["user", "assistant"],
    ]);
    expect(snapshots[1]?.messages[1]?.toolCalls?.map((c) => c.id)).toEqual([callId]);
  });
});
