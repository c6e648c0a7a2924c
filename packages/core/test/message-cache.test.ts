import { describe, expect, it } from "vitest";
import { IDLE_MESSAGE_CACHE_BYTES, MessageCache } from "../src/agent/message-cache.ts";
import { changedMessages, latestRun, listMessages } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { mathAgent } from "./fixtures.ts";

describe("the prompt cache after going back to a checkpoint", () => {
  it("changedMessages reports hidden messages as empty, so the cache drops them", async () => {
    const s = createTestSession(mathAgent);
    await s.runtime.start({ message: "What is 2+3?" });
    await s.drain();
    const run = latestRun(s.sql);
    const tail = s.runtime.ledger.tail;
    // What a resume from the run's start writes: every message after the checkpoint is hidden.
    s.runtime.ledger.append([
      {
        kind: "run.resumed",
        runId: run?.runId ?? null,
        data: { mode: "from_checkpoint", checkpoint: 1 },
      },
    ]);
    expect(listMessages(s.sql, 0, 50).map((m) => m.role)).toEqual(["user"]);
    const changed = changedMessages(s.sql, tail);
    expect(changed.length).toBeGreaterThan(0);
    for (const message of changed) expect(message.parts).toEqual([]);
  });
});

describe("the prompt cache of an idle session is bounded", () => {
  async function sessionWith(messages: number, chars: number) {
    const s = createTestSession(mathAgent);
    for (let i = 0; i < messages; i++) {
      await s.runtime.start({ message: `${i}: ${"x".repeat(chars)} What is 2+3?` });
      await s.drain();
    }
    return s;
  }

  it("over the limit, release drops it and the next prompt is rebuilt the same", async () => {
    const s = await sessionWith(6, 1_000);
    const cache = new MessageCache(s.sql);
    const tail = s.runtime.ledger.tail;
    const before = cache.prompt("system", tail);
    expect(cache.bytes).toBeGreaterThan(6_000);
    cache.release(6_000);
    expect(cache.bytes).toBe(0);
    expect(cache.prompt("system", tail)).toEqual(before);
    expect(cache.bytes).toBeGreaterThan(6_000);
  });

  it("under the limit, release keeps it", async () => {
    const s = await sessionWith(2, 10);
    const cache = new MessageCache(s.sql);
    cache.prompt("system", s.runtime.ledger.tail);
    const bytes = cache.bytes;
    expect(bytes).toBeGreaterThan(0);
    cache.release();
    expect(cache.bytes).toBe(bytes);
    expect(bytes).toBeLessThan(IDLE_MESSAGE_CACHE_BYTES);
  });
});
