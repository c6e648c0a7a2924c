/**
 * The resume stream of an active run whose backlog is more than one read of the ledger
 * (`GET /chat/:agent/:id/stream`, useChat's `resumeStream`, and `GET .../ui-stream`), on
 * workerd: the backlog leaves a page at a time (core/src/http/projected-sse.ts), and the client
 * gets every chunk once, in order, across the pages and the switch to live, with what a rewind
 * inside the backlog took back left out. The message the AI SDK's own reader builds from it is
 * the one it builds from the run's turn in `GET .../chat-history` once the run is over.
 */
import { afterEach, describe, expect, it } from "vitest";
import { rebuildMessage } from "../../../test/support/ui-message.ts";
import { LONG_AGAIN } from "./fixture/agents.ts";
import { probe } from "./fixture/probe.ts";
import { BASE, type SessionHandle, session } from "./support/session.ts";
import { readSse, type SseFrame } from "./support/sse.ts";

afterEach(() => probe.reset());

/**
 * A talker run that said its first long answer, was interrupted, and was taken back to its
 * start with "start over": it says the second long answer and is blocked in slow_echo again.
 */
async function rewoundInBacklog(): Promise<{ s: SessionHandle; runId: string; events: number }> {
  const s = session("talker");
  probe.close("slow_echo");
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor((e) => e.kind === "tool.started", 30_000);
  expect((await s.post("interrupt", { reason: "stop here" })).status).toBe(202);
  probe.open("slow_echo");
  const interrupted = await s.waitFor((e) => e.kind === "run.interrupted", 30_000);
  probe.close("slow_echo");
  const started = (await s.events()).find((e) => e.kind === "run.started");
  const resumed = await s.post("resume", {
    mode: "from_checkpoint",
    checkpoint: String(started?.seq),
    message: "start over",
  });
  expect(resumed.status).toBe(202);
  await s.waitFor((e) => e.kind === "tool.started" && e.seq > interrupted.seq, 30_000);
  const events = (await s.events()).filter((e) => e.runId === started?.runId).length;
  return { s, runId: started?.runId ?? "", events };
}

/** Reads the resume stream to [DONE], letting slow_echo go once the backlog's last chunk came. */
function resume(s: SessionHandle, url: string): Promise<SseFrame[]> {
  return readSse(s.fetch, url, (frame) => {
    if (frame.data.type === "tool-input-available") probe.open("slow_echo");
    return false;
  });
}

describe("the resume stream of a run with a backlog of many pages", () => {
  for (const [name, url] of [
    [
      "GET /chat/:agent/:id/stream",
      (s: SessionHandle) => `${BASE}/chat/talker/${s.session}/stream`,
    ],
    ["GET .../ui-stream", (s: SessionHandle) => s.url("ui-stream")],
  ] as const) {
    it(`${name}: every chunk once, in order, the rewound part left out, then live to [DONE]`, async () => {
      const { s, runId, events } = await rewoundInBacklog();
      // More than two reads of the ledger (`live.maxEvents`: 1000) before the stream goes live.
      expect(events).toBeGreaterThan(2500);
      const frames = await resume(s, url(s));
      await s.waitFor((e) => e.kind === "run.completed", 30_000);

      const ids = frames.map((f) => f.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
      const chunks = frames.map((f) => f.data);
      expect(chunks[0]).toEqual({ type: "start", messageId: runId });
      expect(chunks.at(-1)).toMatchObject({ type: "finish" });
      const message = await rebuildMessage(chunks);
      expect(message?.parts.filter((p) => p.type === "text").map((p) => p.text)).toEqual([
        LONG_AGAIN,
        "Done.",
      ]);

      const history = (await (await s.get("chat-history")).json()) as {
        activeRunId: string | null;
        turns: { runId: string; chunks: unknown[] | null }[];
      };
      expect(history.activeRunId).toBeNull();
      const turn = history.turns.find((t) => t.runId === runId);
      expect(await rebuildMessage(turn?.chunks ?? [])).toEqual(message);
    });
  }
});
