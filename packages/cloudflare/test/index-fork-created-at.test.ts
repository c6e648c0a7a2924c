/**
 * docs/api.md, "GET /sessions": "`createdAt` is when the session began ... (a fork's is when it
 * was forked: its copied events keep their source's times)". The index's status messages are
 * made by its projection while the fork's copy is appended, so the copy's time must be in the
 * ledger before the copied events are (Ledger#append writes ledger_copied.copied_at first);
 * D1 keeps the lowest created_at, so a first message with the source's start would stick.
 * Found by an attack review (the fork was listed 1.2 s before it was made, at its source's start).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { mintIndexToken, mintSessionToken } from "@durable-agents/core";
import { beforeEach, describe, expect, it } from "vitest";
import { migrateIndexDb, resetIndexDb } from "./support/index-db.ts";
import { BASE, isTerminal, session } from "./support/session.ts";
import { until } from "./support/until.ts";

async function outboxSize(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, (_i, state) => {
    const rows = state.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'outbox'")
      .toArray();
    if (rows[0]?.n === 0) return 0;
    return state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  });
}

async function listed(): Promise<{ session: string; createdAt: string | number }[]> {
  const response = await SELF.fetch(`${BASE}/sessions?agent=indexed`, {
    headers: { authorization: `Bearer ${await mintIndexToken(env.AUTH_SECRET)}` },
  });
  return ((await response.json()) as { sessions: { session: string; createdAt: string }[] })
    .sessions;
}

const ms = (v: string | number) => (typeof v === "number" ? v : Date.parse(v));

describe("GET /sessions lists a fork from when it was forked", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });

  it("not from its source's start: its copied events keep their source's times, its createdAt is the fork's", async () => {
    const a = session("indexed");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session: a.session });
    const start = await SELF.fetch(a.url("runs"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping please" } }),
    });
    expect(start.status).toBe(202);
    await a.waitFor(isTerminal);
    await until(
      () => outboxSize(a.stub()),
      (n) => n === 0,
    );
    const sourceCreated = (await listed()).find((r) => r.session === a.session)?.createdAt;
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
    const fork = session("indexed", target);
    await until(
      () => outboxSize(fork.stub()),
      (n) => n === 0,
    );
    const row = (await listed()).find((r) => r.session === target);
    expect(row).toBeDefined();
    // The fork began at `before` or later; its source 1.2 s earlier.
    if (row === undefined || sourceCreated === undefined) throw new Error("not listed");
    expect(ms(row.createdAt)).toBeGreaterThanOrEqual(before - 50);
    expect(ms(row.createdAt)).not.toBe(ms(sourceCreated));
  });
});
