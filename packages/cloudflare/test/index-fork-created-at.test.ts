/**
 * docs/api.md, "GET /sessions": "`createdAt` is when the session began ... (a fork's is when it
 * was forked: its copied events keep their source's times)". The index's status messages are
 * made by its projection while the fork's copy is appended, so the copy's time must be in the
 * ledger before the copied events are (Ledger#append writes ledger_copied.copied_at first);
 * D1 keeps the lowest created_at, so a first message with the source's start would stick.
 * Found by an attack review (the fork was listed 1.2 s before it was made, at its source's start).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { migrateIndexDb, resetIndexDb } from "./support/index-db.ts";
import { indexCaughtUp, indexedRun, listedSessions } from "./support/indexed.ts";
import { session } from "./support/session.ts";

describe("GET /sessions lists a fork from when it was forked", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });

  it("not from its source's start: its copied events keep their source's times, its createdAt is the fork's", async () => {
    const a = await indexedRun();
    const sourceCreated = (await listedSessions()).find((r) => r.session === a.session)?.createdAt;
    expect(sourceCreated).toBeDefined();
    // Some time passes before the fork.
    await new Promise((r) => setTimeout(r, 1_200));
    const { checkpoints } = (await (await a.get("checkpoints")).json()) as {
      checkpoints: { id: string }[];
    };
    const before = Date.now();
    const forked = await a.post("fork", { checkpoint: checkpoints.at(-1)?.id });
    expect(forked.status).toBe(201);
    const target = ((await forked.json()) as { session: string }).session;
    await indexCaughtUp(session("indexed", target));
    const row = (await listedSessions()).find((r) => r.session === target);
    expect(row).toBeDefined();
    // The fork began at `before` or later; its source 1.2 s earlier.
    if (row === undefined || sourceCreated === undefined) throw new Error("not listed");
    expect(row.createdAt).toBeGreaterThanOrEqual(before - 50);
    expect(row.createdAt).not.toBe(sourceCreated);
  });
});
