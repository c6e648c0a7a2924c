/**
 * The resume stream of a rewound run (`GET /chat/:agent/:id/stream`, `GET .../ui-stream`):
 * a client that connects after the rewind gets the run as `GET .../chat-history` gives it,
 * without what the rewind took back; a client connected live across the rewind keeps what it
 * was sent (the UI message stream cannot take chunks back) and then gets the rewound run's
 * new chunks too, until it reconnects. The run waits on a Workflow: active, resumable.
 */
import { describe, expect, it } from "vitest";
import { rebuildMessage } from "../../../../../test/support/ui-message.ts";
import {
  call,
  crunch,
  readUntil,
  retried,
  rewind,
  sseReader,
  waiting,
  workflows,
} from "../../../test/rewind-fixture.ts";
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

const texts = (chunks: UiChunk[]) =>
  chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta as string] : [])).join("");
const inputs = (chunks: UiChunk[]) =>
  chunks.flatMap((c) => (c.type === "tool-input-available" ? [c.input] : []));
const hasInput = (n: number) => (chunks: UiChunk[]) =>
  inputs(chunks).some((i) => (i as { n: number }).n === n);

describe("the resume stream of a rewound run", () => {
  it("a viewer live across the rewind is sent both; one connecting after it, no rewound part", async () => {
    const { t, seq, runId } = await waiting();

    // A viewer connected live before the rewind.
    const live = sseReader<UiChunk>(await call(t, "chat"));
    await live.until(hasInput(1));

    await rewind(t, seq);

    // The live viewer keeps what it was sent, then gets the rewound run's chunks.
    const seenLive = await live.until(hasInput(2));
    await live.cancel();
    expect(texts(seenLive)).toBe("Crunching.Again.");
    expect(inputs(seenLive)).toEqual([{ n: 1 }, { n: 2 }]);

    // A viewer that connects now (a reload) gets the run as its conversation shows it.
    for (const action of ["chat", "ui-stream"]) {
      const resumed = await readUntil<UiChunk>(await call(t, action), hasInput(2));
      expect(texts(resumed)).toBe("Again.");
      expect(inputs(resumed)).toEqual([{ n: 2 }]);
      expect(resumed[0]).toEqual({ type: "start", messageId: runId });
    }
  });

  it("a retried run's resume stream leaves out what the retry took back", async () => {
    const t = await retried();
    const resumed = await readUntil<UiChunk>(await call(t, "chat"), hasInput(2));
    expect(texts(resumed)).toBe("Again.");
    expect(inputs(resumed)).toEqual([{ n: 2 }]);
  });

  it("a reader cut anywhere and resumed by its Last-Event-ID gets the rest of its stream, live across the rewind or not", async () => {
    const { t, seq } = await waiting();
    // A viewer connected before the rewind: it is sent the rewound part.
    const live = sseReader<UiChunk>(await call(t, "ui-stream"));
    await rewind(t, seq);
    await live.until(hasInput(2));
    await live.cancel();
    expect(texts(live.events)).toBe("Crunching.Again.");
    // One connecting after it (a reload) is sent the run without the rewound part.
    const visibleIds: string[] = [];
    const visible = await readUntil<UiChunk>(await call(t, "ui-stream"), hasInput(2), visibleIds);
    expect(texts(visible)).toBe("Again.");
    const streams = [
      { chunks: visible, ids: visibleIds },
      { chunks: live.events, ids: live.ids },
    ];
    for (const whole of streams) {
      // Cut after each chunk in turn, resumed as EventSource does (`Last-Event-ID`).
      for (let cut = 1; cut < whole.chunks.length; cut++) {
        const lastId = whole.ids[cut - 1] ?? "";
        const restIds: string[] = [];
        const rest = await readUntil<UiChunk>(
          await call(t, "ui-stream", "GET", undefined, { "last-event-id": lastId }),
          hasInput(2),
          restIds,
        );
        const joined = [...whole.chunks.slice(0, cut), ...rest];
        // Cut before the rewound part, even the live viewer resumes as one connecting after the
        // rewind; inside or after it, each goes on with exactly what its own stream sends.
        const expected = Number(lastId.split(":")[0]) <= seq ? streams[0] : whole;
        if (!expected) throw new Error("no stream");
        expect([...whole.ids.slice(0, cut), ...restIds]).toEqual(expected.ids);
        expect(joined).toEqual(expected.chunks);
        // The message the AI SDK builds is the one the uncut stream builds.
        expect(await rebuildMessage(joined)).toEqual(await rebuildMessage(expected.chunks));
      }
    }
  });

  it("sends a backlog over one write's 256 KiB whole and in order", async () => {
    const t = createTestSession(talker, { workflows });
    await t.runtime.start({ message: "go" });
    await t.drain();
    expect(t.runtime.status().status).toBe("waiting");
    const resumed = await readUntil<UiChunk>(await call(t, "chat"), hasInput(3));
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
