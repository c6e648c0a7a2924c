import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session, transcript } from "./support/session.ts";

afterEach(() => probe.reset());

async function run(s: SessionHandle): Promise<LedgerEvent[]> {
  await s.post("runs", { input: { message: "go" } });
  await s.waitFor(isTerminal, 20_000);
  return s.events();
}

async function notesRows(s: SessionHandle): Promise<number> {
  return runInDurableObject(s.stub(), (_instance, state) => {
    return state.storage.sql.exec("SELECT count(*) AS n FROM test_notes").one().n as number;
  });
}

/**
 * A Durable Object is evicted or restarted at any moment of a run. Here the
 * object is aborted at a boundary (what a deploy or a crash does to in-flight
 * work), then evicted while it waits for its redrive (what the runtime does to
 * an idle object). A fresh instance must finish the run from the ledger alone.
 */
describe("eviction in the middle of a run", () => {
  let golden: unknown[];

  beforeAll(async () => {
    golden = transcript(await run(session("probe")));
  });

  for (const point of ["after-step-commit", "after-tool-started"] as const) {
    it(`completes with the fault-free transcript when the object dies at ${point}`, async () => {
      const s = session("probe");
      probe.crashAt(point);
      await s.post("runs", { input: { message: "go" } });
      while (probe.executions(`fault:${point}`) === 0) await new Promise((r) => setTimeout(r, 10));
      // A fresh instance comes up for a read, finds the run mid-way, and is evicted while idle.
      expect((await s.status()).status).toBe("running");
      await evictDurableObject(s.stub());
      await s.waitFor(isTerminal, 20_000);
      const events = await s.events();
      expect(events.at(-1)?.kind).toBe("run.completed");
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(transcript(events)).toEqual(golden);
      expect(await notesRows(s)).toBe(1);
    });
  }
});

/**
 * G3: a tool's `ctx.transaction` writes commit with its `tool.completed` or not at all. Step 1
 * runs `slow_echo` (held at its gate) and `save_note`; `save_note` runs and is held at
 * `before-tool-commit`, a status read (held by the output gate until earlier writes are
 * durable) lets anything it wrote reach disk, then the object is aborted. The redriven
 * `save_note` runs again: one note row, not two.
 */
describe("a crash after a tool ran, before its result commits", () => {
  it("leaves nothing of the lost execution's ctx.transaction: one note row", async () => {
    const golden = transcript(await run(session("probe")));
    const s = session("probe");
    probe.close("slow_echo");
    probe.pauseAt("before-tool-commit");
    await s.post("runs", { input: { message: "go" } });
    while (probe.executions("fault:before-tool-commit") === 0)
      await new Promise((r) => setTimeout(r, 10));
    expect((await s.status()).status).toBe("running");
    await runInDurableObject(s.stub(), (_instance, state) =>
      state.abort("injected crash: save_note ran, its result not committed"),
    ).catch(() => undefined);
    probe.open("slow_echo");
    const events = await s.waitFor(isTerminal, 20_000).then(() => s.events());
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(transcript(events)).toEqual(golden);
    expect(await notesRows(s)).toBe(1);
  });
});
