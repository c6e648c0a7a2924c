import { describe, expect, it } from "vitest";
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
