/**
 * docs/api.md, "GET /sessions": "newest first, keyset-paginated on (created_at, agent,
 * session), so pages are stable while sessions update". A session's `createdAt` is when it
 * began (its ledger's first event), whichever delivery writes its row: one in a new shard
 * after `shards` changed ("Shards": "its next status delivery writes the row in its new
 * shard and then deletes it from the old one"), or one after retention deleted the row.
 * Found by a reviewer under wrangler dev: two sessions made at 18:32:45 with `shards: 2`
 * were listed with createdAt 18:33:05 after `shards: 3` and one more run each (d1-store.ts
 * bound the delivery's `ts` as `created_at`), so they jumped to the top of the listing.
 */
import { applyD1Migrations, env, runInDurableObject } from "cloudflare:test";
import { mintIndexToken, mintSessionToken, type SessionsPage } from "@durable-agents/core";
import { beforeEach, describe, expect, it } from "vitest";
import { applyRetention, shardOf } from "../src/d1/index.ts";
import { routeRequest } from "../src/index.ts";
import { shardedIndex } from "./fixture/sharded.ts";
import { MIGRATIONS, resetIndexDb } from "./support/index-db.ts";
import { BASE } from "./support/session.ts";
import { until } from "./support/until.ts";

const NAMES = ["SHARD_DB", "SHARD_DB_1", "SHARD_DB_2"] as const;
const shards = () => NAMES.map((name) => env[name]);
const shardedEnv = () => ({ ...env, AGENTS: env.SHARDED });
const DAY = 86_400_000;

beforeEach(async () => {
  for (const db of shards()) {
    await resetIndexDb(db);
    await applyD1Migrations(db, MIGRATIONS);
  }
});

/** A fresh session name whose shard (of the 3) is SHARD_DB. */
function onFirstShard(prefix: string): string {
  for (let i = 0; ; i++) {
    const session = `${prefix}${Date.now()}_${i}`;
    if (shardOf(NAMES, "indexed", session) === 0) return session;
  }
}

/** Runs the session once more and waits until SHARD_DB holds the row of that run. */
async function runOnce(session: string): Promise<{ created_at: number; last_seq: number }> {
  const before = await row(session);
  const token = await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session });
  const started = await routeRequest(
    new Request(`${BASE}/agents/indexed/${session}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping please" } }),
    }),
    shardedEnv(),
  );
  expect(started.status).toBe(202);
  const written = await until(
    () => row(session),
    (r) => r?.status === "completed" && r.last_seq > (before?.last_seq ?? 0),
  );
  if (!written) throw new Error("no row");
  return written;
}

function row(session: string) {
  const [first] = shards();
  if (!first) throw new Error("no shard");
  return first
    .prepare(
      "SELECT status, created_at, last_seq FROM da_sessions WHERE agent = 'indexed' AND session = ?",
    )
    .bind(session)
    .first<{ status: string; created_at: number; last_seq: number }>();
}

async function listedCreatedAt(session: string): Promise<number | undefined> {
  const listed = await routeRequest(
    new Request(`${BASE}/sessions?agent=indexed`, {
      headers: { authorization: `Bearer ${await mintIndexToken(env.AUTH_SECRET)}` },
    }),
    shardedEnv(),
    undefined,
    { index: shardedIndex },
  );
  const page = (await listed.json()) as SessionsPage;
  return page.sessions.find((s) => s.session === session)?.createdAt;
}

/** The ts of the session's first event: when it began. */
async function startedAt(session: string): Promise<number> {
  const stub = env.SHARDED.get(env.SHARDED.idFromName(`indexed/${session}`));
  return runInDurableObject(
    stub,
    (_instance, state) =>
      state.storage.sql.exec<{ ts: number }>("SELECT ts FROM events WHERE seq = 1").one().ts,
  );
}

/** Lets the clock move on, so a later run's events carry a later ts than the first's. */
const later = () => new Promise((r) => setTimeout(r, 20));

describe("a session's createdAt in the index", () => {
  it("is when it began, and stays so when it moves to another shard", async () => {
    const session = onFirstShard("move");
    const first = await runOnce(session);
    const began = await startedAt(session);
    expect(first.created_at).toBe(began);
    // What an earlier shards setting left: the session's row in SHARD_DB_2, as it was
    // written there, and the session's record of it.
    const [home, , old] = shards();
    if (!home || !old) throw new Error("no shard");
    await old
      .prepare(
        "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('indexed', ?, 'completed', ?, ?, ?)",
      )
      .bind(session, began, began, first.last_seq)
      .run();
    await home.prepare("DELETE FROM da_sessions WHERE session = ?").bind(session).run();
    const stub = env.SHARDED.get(env.SHARDED.idFromName(`indexed/${session}`));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE index_shard SET binding = 'SHARD_DB_2' WHERE id = 1");
    });
    await later();
    const moved = await runOnce(session);
    expect(moved.created_at).toBe(began);
    expect(await listedCreatedAt(session)).toBe(began);
  });

  it("is when it began, and stays so when a run writes it again after retention deleted it", async () => {
    const session = onFirstShard("kept");
    await runOnce(session);
    const began = await startedAt(session);
    const [home] = shards();
    if (!home) throw new Error("no shard");
    // A pass from 91 days on deletes the settled session's row.
    await applyRetention(home, { days: 90, now: Date.now() + 91 * DAY });
    expect(await row(session)).toBeNull();
    await later();
    const again = await runOnce(session);
    expect(again.created_at).toBe(began);
    expect(await listedCreatedAt(session)).toBe(began);
  });
});
