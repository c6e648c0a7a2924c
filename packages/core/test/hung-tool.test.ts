/**
 * A step whose neighbour's commit failed waits for every call (tool-step.ts invariant 3). What a
 * call that never returns (it ignores its abort signal) does to that step, to an interrupt and
 * to an abort, and that it does not hold the session's next run after an abort (pump.ts).
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { AnyTool } from "../src/agent/define-tool.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

const tick = () => new Promise((r) => setTimeout(r, 20));

function agentCalling(tools: AnyTool[]) {
  return defineAgent({
    name: "hung",
    system: "test",
    tools,
    model: scriptedModel({
      rules: [
        ({ turn, userText }) =>
          userText === "again"
            ? { text: "second run answered" }
            : turn === 0
              ? { toolCalls: tools.map((t, i) => ({ name: t.name, args: { n: i } })) }
              : { text: "done" },
      ],
    }),
  });
}

function tools(release: Promise<void>) {
  const note = defineTool({
    name: "note",
    description: "stages a write that always fails to commit",
    input: z.object({ n: z.number() }),
    effect: "idempotent",
    execute: (_i, ctx) => {
      ctx.transaction(() => {
        throw new Error("disk I/O error (simulated)");
      });
      return { ok: true };
    },
  });
  const hang = defineTool({
    name: "hang",
    description: "ignores its abort signal",
    input: z.object({ n: z.number() }),
    effect: "idempotent",
    execute: async () => {
      await release;
      return { late: true };
    },
  });
  return [note, hang];
}

/** A session whose run "go" is in its tool step: `note`'s commit failed, `hang` holds until `release`. */
async function hungSession() {
  let release = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  const s = createTestSession(agentCalling(tools(held)));
  await s.runtime.start({ message: "go" });
  const first = s.runtime.alarm();
  await tick();
  return { s, release, first };
}

describe("a call that never returns, beside a commit that failed", () => {
  it("the failed commit is never retried nor surfaced while the other call hangs", async () => {
    const { s, release, first } = await hungSession();
    s.clock.advance(60_000);
    void s.runtime.alarm();
    await tick();
    // The note's commit failed a minute ago; the step has not ended, nothing was retried.
    const kinds = s.runtime.ledger.read(0).map((e) => e.kind);
    expect(kinds).not.toContain("tool.completed");
    expect(latestRun(s.sql)?.status).toBe("running");
    // An interrupt does not signal tools: it waits on the hung call too.
    await s.runtime.interrupt("stop");
    await tick();
    expect(latestRun(s.sql)?.status).toBe("running");
    // An abort ends the run at once; the late result is dropped.
    await s.runtime.abort("enough");
    expect(latestRun(s.sql)?.status).toBe("aborted");
    const seqAtAbort = s.runtime.ledger.read(0).length;
    const hungAbortedOnly = () =>
      s.runtime.ledger
        .read(0)
        .slice(seqAtAbort)
        .map((e) => e.kind);
    expect(hungAbortedOnly()).toEqual([]);
    release();
    await first;
    await s.drain();
    const after = s.runtime.ledger
      .read(0)
      .slice(seqAtAbort)
      .map((e) => e.kind);
    expect(after).toEqual([]);
  });
});

describe("after an abort, a call that never returns", () => {
  it("does not hold the session's next run", async () => {
    const { s, release, first } = await hungSession();
    await s.runtime.abort("enough");
    // A new run in the same session, while the aborted run's call still hangs.
    const { runId } = await s.runtime.start({ message: "again" });
    void s.runtime.alarm();
    for (let i = 0; i < 10; i++) {
      s.clock.advance(1_000);
      void s.runtime.alarm();
      await tick();
    }
    const run2 = s.runtime.ledger
      .read(0)
      .filter((e) => e.runId === runId)
      .map((e) => e.kind);
    release();
    await first;
    await s.drain();
    const run2After = s.runtime.ledger
      .read(0)
      .filter((e) => e.runId === runId)
      .map((e) => e.kind);
    // Once the hung call lands, the second run goes on: it was held, not broken.
    expect(run2After).toContain("run.completed");
    expect(run2).toContain("run.completed");
  });
});
