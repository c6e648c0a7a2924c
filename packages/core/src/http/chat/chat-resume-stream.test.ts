/**
 * The resume stream of a rewound run (`GET /chat/:agent/:id/stream`, `GET .../ui-stream`):
 * a client that connects after the rewind gets the run as `GET .../chat-history` gives it,
 * without what the rewind took back; a client connected live across the rewind keeps what it
 * was sent (the UI message stream cannot take chunks back) and then gets the rewound run's
 * new chunks too, until it reconnects. The run waits on a Workflow: active, resumable.
 */
import { describe, expect, it } from "vitest";
import { call, crunch, cruncher, failer, script, workflows } from "../../../test/rewind-fixture.ts";
import { defineAgent, scriptedModel } from "../../index.ts";
import { createTestSession } from "../../testing/test-session.ts";
import type { UiChunk } from "../../wire/ui-stream/ui-stream-projector.ts";

/** Says a long text (over the 256 KiB a write holds), then delegates to a Workflow. */
const LONG = "x".repeat(300 * 1024);
const talker = defineAgent({
  name: "talker",
  system: "",
  tools: [crunch],
  model: scriptedModel({
    rules: [() => ({ text: LONG, toolCalls: [{ name: "crunch", args: { n: 3 } }] })],
  }),
});

/** Reads SSE chunks off `reader` until `done` holds for what was read (bounded). */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: UiChunk[],
  done: (chunks: UiChunk[]) => boolean,
): Promise<UiChunk[]> {
  const decoder = new TextDecoder();
  let buffer = "";
  for (let i = 0; i < 100 && !done(seen); i++) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    const frames = buffer.split("\n\n");
    buffer = frames.pop() ?? "";
    for (const frame of frames) {
      const data = frame.split("\n").find((l) => l.startsWith("data: "));
      if (data && data !== "data: [DONE]") seen.push(JSON.parse(data.slice(6)) as UiChunk);
    }
  }
  return seen;
}

const texts = (chunks: UiChunk[]) =>
  chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta as string] : [])).join("");
const inputs = (chunks: UiChunk[]) =>
  chunks.flatMap((c) => (c.type === "tool-input-available" ? [c.input] : []));
const hasInput = (n: number) => (chunks: UiChunk[]) =>
  inputs(chunks).some((i) => (i as { n: number }).n === n);

describe("the resume stream of a rewound run", () => {
  it("a viewer live across the rewind is sent both; one connecting after it, no rewound part", async () => {
    script.rewound = false;
    const t = createTestSession(cruncher, { workflows });
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");

    // A viewer connected live before the rewind.
    const live = (await call(t, "chat")).body?.getReader();
    if (!live) throw new Error("no body");
    const seenLive = await readUntil(live, [], hasInput(1));

    const started = t.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    script.rewound = true;
    const rewind = await call(t, "resume", "POST", {
      mode: "from_checkpoint",
      checkpoint: String(started?.seq),
    });
    expect(rewind.status).toBe(202);
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");

    // The live viewer keeps what it was sent, then gets the rewound run's chunks.
    await readUntil(live, seenLive, hasInput(2));
    await live.cancel();
    expect(texts(seenLive)).toBe("Crunching.Again.");
    expect(inputs(seenLive)).toEqual([{ n: 1 }, { n: 2 }]);

    // A viewer that connects now (a reload) gets the run as its conversation shows it.
    for (const action of ["chat", "ui-stream"]) {
      const reader = (await call(t, action)).body?.getReader();
      if (!reader) throw new Error("no body");
      const resumed = await readUntil(reader, [], hasInput(2));
      await reader.cancel();
      expect(texts(resumed)).toBe("Again.");
      expect(inputs(resumed)).toEqual([{ n: 2 }]);
      expect(resumed[0]).toEqual({ type: "start", messageId: started?.runId });
    }
  });

  it("a retried run's resume stream leaves out what the retry took back", async () => {
    script.rewound = false;
    script.calls = 0;
    const t = createTestSession(failer, { workflows });
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(t.runtime.status().status).toBe("failed");
    script.rewound = true;
    expect((await call(t, "retry", "POST", { mode: "from_start" })).status).toBe(202);
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");

    const reader = (await call(t, "chat")).body?.getReader();
    if (!reader) throw new Error("no body");
    const resumed = await readUntil(reader, [], hasInput(2));
    await reader.cancel();
    expect(texts(resumed)).toBe("Again.");
    expect(inputs(resumed)).toEqual([{ n: 2 }]);
  });

  it("sends a backlog over one write's 256 KiB whole and in order", async () => {
    const t = createTestSession(talker, { workflows });
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");
    const reader = (await call(t, "chat")).body?.getReader();
    if (!reader) throw new Error("no body");
    const resumed = await readUntil(reader, [], hasInput(3));
    await reader.cancel();
    expect(texts(resumed)).toBe(LONG);
    expect(resumed.map((c) => c.type)).toEqual([
      "start",
      "start-step",
      "text-start",
      ...resumed.filter((c) => c.type === "text-delta").map(() => "text-delta"),
      "text-end",
      "tool-input-available",
    ]);
  });
});
