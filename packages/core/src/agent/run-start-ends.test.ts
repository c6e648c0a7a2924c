/**
 * A start that ends the run it follows (`replaces`, `ends`) aborts it in its own append: a
 * refused start leaves that run going (run-start.ts). The chat route's regenerate, edit and
 * message after a stop rely on it (docs/delivery.md).
 */
import { describe, expect, it } from "vitest";
import { mathAgent } from "../../test/fixtures.ts";
import { createTestSession } from "../testing/test-session.ts";

const BAD_CHOICE = { toolChoice: { type: "tool", toolName: "nope" } } as const;

describe("a start that ends the active run", () => {
  it("replaces: a refused start aborts nothing; an accepted one aborts it in the start's append", async () => {
    const t = createTestSession(mathAgent);
    const first = await t.runtime.start({ message: "question 1" });
    const tail = t.runtime.ledger.tail;
    await expect(
      t.runtime.start({ message: "again", replaces: first.runId, modelOptions: BAD_CHOICE }),
    ).rejects.toMatchObject({ code: "invalid_request" });
    expect(t.runtime.ledger.tail).toBe(tail);
    expect(t.runtime.status()).toMatchObject({ runId: first.runId, status: "running" });

    const second = await t.runtime.start({ message: "again", replaces: first.runId });
    const events = t.runtime.ledger.read(tail).map((e) => [e.kind, e.runId]);
    expect(events).toEqual([
      ["run.aborted", first.runId],
      ["run.started", second.runId],
    ]);
  });

  it("ends: aborts the named active run with its reason; naming a run that already ended changes nothing", async () => {
    const t = createTestSession(mathAgent);
    const first = await t.runtime.start({ message: "question 1" });
    await expect(t.runtime.start({ message: "next" })).rejects.toMatchObject({
      code: "run_active",
    });
    const tail = t.runtime.ledger.tail;
    const second = await t.runtime.start({
      message: "next",
      ends: { run: first.runId, reason: "moved on" },
    });
    const [aborted, started] = t.runtime.ledger.read(tail);
    expect(aborted).toMatchObject({ kind: "run.aborted", runId: first.runId });
    expect(aborted?.data).toEqual({ reason: "moved on" });
    expect(started).toMatchObject({ kind: "run.started", runId: second.runId });
    // The first run's messages stay (ends does not hide them, unlike replaces).
    expect(started?.data).not.toHaveProperty("replaces");

    await t.runtime.abort("done");
    const third = await t.runtime.start({ message: "later", ends: { run: second.runId } });
    expect(t.runtime.status()).toMatchObject({ runId: third.runId, status: "running" });
    // ends names a run that is not the active one: the usual 409.
    await expect(
      t.runtime.start({ message: "x", ends: { run: first.runId } }),
    ).rejects.toMatchObject({ code: "run_active" });
  });
});
