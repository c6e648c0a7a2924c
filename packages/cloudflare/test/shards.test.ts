import {
  applyD1Migrations,
  createExecutionContext,
  createScheduledController,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { mintIndexToken, mintSessionToken, type SessionsPage } from "@durable-agents/core";
import { beforeEach, describe, expect, it } from "vitest";
import {
  indexShards,
  listSessions,
  retentionHandler,
  shardBindings,
  shardOf,
  type UsageRow,
} from "../src/d1/index.ts";
import { createStore, routeRequest } from "../src/index.ts";
import { shardedIndex, shardOfSession } from "./fixture/sharded.ts";
import { MIGRATIONS, resetIndexDb } from "./support/index-db.ts";
import { BASE } from "./support/session.ts";
import { until } from "./support/until.ts";

const NAMES = ["SHARD_DB", "SHARD_DB_1", "SHARD_DB_2"] as const;
const shards = () => NAMES.map((name) => env[name]);
/** The Worker's env with the sharded server as AGENTS (the router's session binding). */
const shardedEnv = () => ({ ...env, AGENTS: env.SHARDED });

async function freshShards(): Promise<void> {
  for (const db of shards()) {
    await resetIndexDb(db);
    await applyD1Migrations(db, MIGRATIONS);
  }
}

async function get<T>(path: string): Promise<T> {
  const response = await routeRequest(
    new Request(`${BASE}${path}`, {
      headers: { authorization: `Bearer ${await mintIndexToken(env.AUTH_SECRET)}` },
    }),
    shardedEnv(),
    undefined,
    { index: shardedIndex },
  );
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

let counter = 0;
/** `perShard` fresh session names for each shard, picked with the index's own hash. */
function namesOnEachShard(perShard: number): string[][] {
  const picked: string[][] = NAMES.map(() => []);
  while (picked.some((p) => p.length < perShard)) {
    const name = `sh${Date.now()}_${++counter}`;
    const list = picked[shardOf(NAMES, "indexed", name)];
    if (list && list.length < perShard) list.push(name);
  }
  return picked;
}

/** Runs an `indexed` session of the sharded server to the end, until its shard has it. */
async function run(session: string): Promise<void> {
  const token = await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session });
  const response = await routeRequest(
    new Request(`${BASE}/agents/indexed/${session}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping please" } }),
    }),
    shardedEnv(),
  );
  expect(response.status).toBe(202);
}

async function rowsOf(session: string): Promise<(string | undefined)[]> {
  return Promise.all(
    shards().map(async (db) => {
      const row = await db
        .prepare("SELECT status FROM da_sessions WHERE agent = 'indexed' AND session = ?")
        .bind(session)
        .first<{ status: string }>();
      return row?.status;
    }),
  );
}

describe("the shard of a session", () => {
  it("is stable, spread, independent of the names' order, and only moves to a new shard", () => {
    const keys = Array.from({ length: 600 }, (_, i) => `session-${i}`);
    const three = keys.map((k) => shardOf(NAMES, "chat", k));
    const counts = [0, 1, 2].map((i) => three.filter((s) => s === i).length);
    for (const count of counts) expect(count).toBeGreaterThan(140);
    const reversed = [...NAMES].reverse();
    expect(keys.map((k) => reversed[shardOf(reversed, "chat", k)])).toEqual(
      three.map((i) => NAMES[i]),
    );
    const four = [...NAMES, "SHARD_DB_3"];
    const moved = keys.filter((k, i) => four[shardOf(four, "chat", k)] !== NAMES[three[i] ?? 0]);
    for (const k of moved) expect(four[shardOf(four, "chat", k)]).toBe("SHARD_DB_3");
    expect(moved.length).toBeGreaterThan(90);
    expect(moved.length).toBeLessThan(220);
  });

  it("binding names: a count names INDEX_DB, INDEX_DB_1, …; bad counts and lists are refused", () => {
    expect(shardBindings({ shards: 3 })).toEqual(["INDEX_DB", "INDEX_DB_1", "INDEX_DB_2"]);
    expect(shardBindings({ binding: "IX", shards: ["IX", "OTHER"] })).toEqual(["IX", "OTHER"]);
    for (const shards of [0, 1.5, 65, [], ["A", "A"]])
      expect(() => shardBindings({ shards })).toThrow(RangeError);
    const bindings = env as unknown as Record<string, unknown>;
    expect(indexShards(bindings, { binding: "SHARD_DB" }).names).toEqual(NAMES);
    expect(() => indexShards(bindings, { binding: "SHARD_DB", shards: 4 })).toThrow(/SHARD_DB_3/);
  });
});

describe("the index over 3 D1 shards", () => {
  beforeEach(freshShards);

  it("sessions land on their own shard, and /sessions and /usage merge all shards", async () => {
    const names = namesOnEachShard(2);
    await Promise.all(names.flat().map(run));
    for (const [i, list] of names.entries())
      for (const session of list) {
        const rows = await until(
          () => rowsOf(session),
          (r) => r[i] === "completed",
        );
        expect(rows).toEqual(NAMES.map((_, j) => (j === i ? "completed" : undefined)));
        expect(shardOfSession.get(session)).toBe(NAMES[i]);
      }
    const all = names.flat().sort();
    const page = await get<SessionsPage>("/sessions?agent=indexed");
    expect(page.sessions.map((s) => s.session).sort()).toEqual(all);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const next: SessionsPage = await get<SessionsPage>(
        `/sessions?agent=indexed&limit=4${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...next.sessions.map((s) => s.session));
      cursor = next.nextCursor;
    } while (cursor);
    expect(seen).toEqual(page.sessions.map((s) => s.session));
    // Usage: 2 model calls and 1 tool call per run, summed over the shards' rows.
    const usage = await until(
      () => get<{ rows: UsageRow[] }>("/usage?agent=indexed"),
      (u) => u.rows.find((r) => r.kind === "model")?.count === 2 * all.length,
    );
    expect(usage.rows.map((r) => [r.kind, r.count])).toEqual([
      ["model", 2 * all.length],
      ["tool", all.length],
    ]);
    let tokens = 0;
    for (const db of shards())
      tokens +=
        (
          await db
            .prepare("SELECT sum(input_tokens) AS n FROM da_usage WHERE agent = 'indexed'")
            .first<{ n: number | null }>()
        )?.n ?? 0;
    expect(tokens).toBeGreaterThan(0);
    expect(usage.rows[0]?.inputTokens).toBe(tokens);
  });

  it("pages in the order one database would give, with ties on created_at across shards", async () => {
    // 41 sessions on 4 distinct creation times, so most neighbours tie and the merge
    // decides by agent and session; the single-database order is SQLite's own.
    const rows = Array.from({ length: 41 }, (_, i) => ({
      agent: i % 3 === 0 ? "alpha" : "beta",
      session: `s${String((i * 7) % 41).padStart(2, "0")}`,
      createdAt: 1_000 + (i % 4),
      status: i % 5 === 0 ? "running" : "completed",
    }));
    const insert = (db: D1Database, r: (typeof rows)[number]) =>
      db
        .prepare(
          "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, 1)",
        )
        .bind(r.agent, r.session, r.status, r.createdAt, r.createdAt);
    const [one] = shards();
    if (!one) throw new Error("no shard");
    await one.batch(rows.map((r) => insert(one, r)));
    const expected = async (query: string) =>
      (await listSessions(one, { ...parse(query), limit: 200 })).sessions.map(
        (s) => `${s.agent}/${s.session}`,
      );
    const truth = { all: await expected(""), completed: await expected("status=completed") };
    expect(truth.all).toHaveLength(41);
    await freshShards();
    for (const r of rows) {
      const db = shards()[shardOf(NAMES, r.agent, r.session)];
      if (db) await insert(db, r).run();
    }
    for (const db of shards())
      expect(
        (await db.prepare("SELECT count(*) AS n FROM da_sessions").first<{ n: number }>())?.n,
      ).toBeGreaterThan(5);
    for (const [query, want] of [
      ["", truth.all],
      ["status=completed", truth.completed],
    ] as const)
      for (const limit of [1, 2, 5, 7, 40, 41, 200]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: SessionsPage = await get<SessionsPage>(
            `/sessions?limit=${limit}${query ? `&${query}` : ""}${cursor ? `&cursor=${cursor}` : ""}`,
          );
          expect(page.sessions.length).toBeLessThanOrEqual(limit);
          seen.push(...page.sessions.map((s) => `${s.agent}/${s.session}`));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(seen, `${query} limit=${limit}`).toEqual(want);
        expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
      }
  });

  it("a session with a row in two shards is listed once, as its most recently updated row", async () => {
    // Copies left by an index written before the shard record existed, or caught between
    // the write to the new shard and the delete from the old one. The listing is every
    // session's winning row (latest updated_at; a tie goes to the earlier shard) that
    // matches the filters, at that row's place in the order, so pages neither skip nor repeat.
    type Row = { session: string; created: number; updated: number; status: string };
    const placed: [number, Row][] = [
      ...Array.from({ length: 10 }, (_, i): [number, Row] => [
        i % 3,
        { session: `d${i}`, created: 1_000 + i, updated: 1_000 + i, status: "completed" },
      ]),
      // Winner sorts before its stale copy.
      [0, { session: "dupA", created: 1_005, updated: 2_000, status: "completed" }],
      [1, { session: "dupA", created: 1_002, updated: 1_500, status: "running" }],
      // Winner sorts after its stale copy.
      [1, { session: "dupB", created: 1_008, updated: 1_100, status: "running" }],
      [2, { session: "dupB", created: 1_001, updated: 3_000, status: "completed" }],
      // Same place in the order, on three shards; the tie on updated_at goes to shard 0.
      [2, { session: "dupC", created: 1_003, updated: 1_300, status: "running" }],
      [0, { session: "dupC", created: 1_003, updated: 1_300, status: "completed" }],
      [1, { session: "dupC", created: 1_003, updated: 1_200, status: "running" }],
    ];
    for (const [i, r] of placed)
      await shards()
        [i]?.prepare(
          "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('dup', ?, ?, ?, ?, 1)",
        )
        .bind(r.session, r.status, r.created, r.updated)
        .run();
    const winners = new Map<string, [number, Row]>();
    for (const [i, r] of placed) {
      const [j, seen] = winners.get(r.session) ?? [];
      if (
        !seen ||
        j === undefined ||
        r.updated > seen.updated ||
        (r.updated === seen.updated && i < j)
      )
        winners.set(r.session, [i, r]);
    }
    const order = [...winners.values()]
      .map(([, r]) => r)
      .sort((a, b) => b.created - a.created || (a.session < b.session ? -1 : 1));
    const expected = (status?: string) =>
      order.filter((r) => !status || r.status === status).map((r) => `${r.session}@${r.updated}`);
    expect(expected()).toHaveLength(13);
    for (const status of [undefined, "completed", "running"])
      for (const limit of [1, 2, 3, 5, 12, 13, 200]) {
        const want = expected(status);
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: SessionsPage = await get<SessionsPage>(
            `/sessions?agent=dup&limit=${limit}${status ? `&status=${status}` : ""}${cursor ? `&cursor=${cursor}` : ""}`,
          );
          seen.push(...page.sessions.map((s) => `${s.session}@${s.updatedAt}`));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(seen, `status=${status} limit=${limit}`).toEqual(want);
        expect(pages, `status=${status} limit=${limit}`).toBe(
          Math.max(1, Math.ceil(want.length / limit)),
        );
      }
  });

  it("/usage sums the same day, agent and name from every shard", async () => {
    const day = "2026-06-01";
    const ts = Date.parse(day);
    for (const [i, db] of shards().entries())
      await db
        .prepare(
          "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name, input_tokens, output_tokens, calls, last_seq) VALUES ('a', ?, 1, ?, ?, 'model', 'm', ?, 1, 2, 1), ('b', ?, 1, ?, ?, 'tool', 't', 0, 0, 1, 1)",
        )
        .bind(`s${i}`, day, ts, 10 * (i + 1), `s${i}`, day, ts)
        .run();
    const { rows } = await get<{ rows: UsageRow[] }>(`/usage?from=${day}&to=${day}`);
    expect(rows.map(({ cost: _, ...r }) => r)).toEqual([
      {
        day,
        agent: "a",
        kind: "model",
        name: "m",
        count: 6,
        inputTokens: 60,
        outputTokens: 3,
        value: 0,
      },
      {
        day,
        agent: "b",
        kind: "tool",
        name: "t",
        count: 3,
        inputTokens: 0,
        outputTokens: 0,
        value: 0,
      },
    ]);
  });

  it("retention runs on every shard: the scheduled handler, and each session's deliveries on its own", async () => {
    const now = Date.now();
    const old = now - 100 * 86_400_000;
    const seedOld = () =>
      Promise.all(
        shards().map((db) =>
          db.batch([
            ...Array.from({ length: 3 }, (_, i) =>
              db
                .prepare(
                  "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name) VALUES ('old', 'o', ?, '2026-01-01', ?, 'model', 'm')",
                )
                .bind(i + 1, old + i),
            ),
            db
              .prepare(
                "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('old', 'done', 'completed', ?, ?, 1), ('old', 'busy', 'running', ?, ?, 1)",
              )
              .bind(old, old, old, old),
          ]),
        ),
      );
    const left = () =>
      Promise.all(
        shards().map(async (db) => ({
          usage: (
            await db
              .prepare("SELECT count(*) AS n FROM da_usage WHERE agent = 'old'")
              .first<{ n: number }>()
          )?.n,
          sessions: (
            await db
              .prepare("SELECT session FROM da_sessions WHERE agent = 'old' ORDER BY session")
              .all<{ session: string }>()
          ).results.map((r) => r.session),
        })),
      );
    const cleaned = NAMES.map(() => ({ usage: 0, sessions: ["busy"] }));
    // The cron handler finds the shards by name, and loops bounded passes (chunk 2 of 3 rows).
    await seedOld();
    const ctx = createExecutionContext();
    retentionHandler({ days: 30, chunk: 2, binding: "SHARD_DB" })(
      createScheduledController({ scheduledTime: now, cron: "0 3 * * *" }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await left()).toEqual(cleaned);
    // Deliveries: the fixture runs a pass of 2 rows per table after each one, on its shard.
    await freshShards();
    await seedOld();
    const names = namesOnEachShard(2);
    await Promise.all(names.flat().map(run));
    expect(
      await until(left, (l) => l.every((s) => s.usage === 0 && s.sessions.length === 1)),
    ).toEqual(cleaned);
    // Every batch landed (a run's last batch holds its final status), so none reaches the next test.
    for (const [i, list] of names.entries())
      for (const session of list)
        await until(
          () => rowsOf(session),
          (r) => r[i] === "completed",
        );
  });

  it("a session whose shard changed is listed once: its next delivery forgets the old row", async () => {
    const [[session = ""] = []] = namesOnEachShard(1);
    const [, , old] = shards();
    if (!old) throw new Error("no shard");
    // What an earlier shards setting left: the session's row and tag in SHARD_DB_2, and the
    // session's record of it.
    await old.batch([
      old
        .prepare(
          "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('indexed', ?, 'completed', 1, 1, 1)",
        )
        .bind(session),
      old
        .prepare("INSERT INTO da_session_tags (tag, agent, session) VALUES ('t', 'indexed', ?)")
        .bind(session),
    ]);
    const stub = env.SHARDED.get(env.SHARDED.idFromName(`indexed/${session}`));
    const recorded = () =>
      runInDurableObject(stub, (_instance, state) => {
        state.storage.sql.exec(
          "CREATE TABLE IF NOT EXISTS index_shard (id INTEGER PRIMARY KEY CHECK (id = 1), binding TEXT NOT NULL)",
        );
        return state.storage.sql
          .exec<{ binding: string }>("SELECT binding FROM index_shard")
          .toArray();
      });
    await recorded();
    await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("INSERT INTO index_shard (id, binding) VALUES (1, 'SHARD_DB_2')"),
    );
    expect(await rowsOf(session)).toEqual([undefined, undefined, "completed"]);
    await run(session);
    expect(
      await until(
        () => rowsOf(session),
        (r) => r[0] === "completed" && r[2] === undefined,
      ),
    ).toEqual(["completed", undefined, undefined]);
    const tags = await old
      .prepare("SELECT count(*) AS n FROM da_session_tags WHERE session = ?")
      .bind(session)
      .first<{ n: number }>();
    expect(tags?.n).toBe(0);
    expect(await recorded()).toEqual([{ binding: "SHARD_DB" }]);
    const page = await get<SessionsPage>("/sessions?agent=indexed");
    expect(page.sessions.filter((s) => s.session === session)).toHaveLength(1);
  });

  it("the store reads, cleans and migrates every shard", async () => {
    const names = namesOnEachShard(1);
    await Promise.all(names.flat().map(run));
    for (const [i, [session]] of names.entries())
      await until(
        () => rowsOf(session ?? ""),
        (r) => r[i] === "completed",
      );
    // The server's own index value: its binding and 3 shards.
    const store = createStore(env, { index: shardedIndex });
    const found = await store.findSessionIds({ agent: "indexed", limit: 2 });
    const next = await store.findSessionIds({
      agent: "indexed",
      limit: 2,
      cursor: found.nextCursor ?? "",
    });
    expect([...found.sessions, ...next.sessions].map((s) => s.session).sort()).toEqual(
      names.flat().sort(),
    );
    expect(next.nextCursor).toBeNull();
    const usage = await until(
      () => store.usageRollup({ agent: "indexed", kind: "model" }),
      (u) => u.rows[0]?.count === 6,
    );
    expect(usage.rows.map((r) => r.count)).toEqual([6]);
    expect(await store.isMigrated()).toBe(true);
    for (const db of shards()) await resetIndexDb(db);
    expect(await store.migrationVersion()).toBe(0);
    expect((await store.runMigrations()).length).toBe(MIGRATIONS.length);
    expect(await store.isMigrated()).toBe(true);
    expect(await store.migrationVersion()).toBe(MIGRATIONS.length);
  });

  it("a shard without tables is named in a 500, not read as empty", async () => {
    const [, second] = shards();
    if (second) await resetIndexDb(second);
    const response = await routeRequest(
      new Request(`${BASE}/sessions`, {
        headers: { authorization: `Bearer ${await mintIndexToken(env.AUTH_SECRET)}` },
      }),
      shardedEnv(),
      undefined,
      { index: shardedIndex },
    );
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("index_not_migrated");
    // What to do, in the steps a newcomer needs: where the files are, the config key that
    // points wrangler at them, and the command (local too).
    expect(error.message).toContain('"migrations_dir"');
    expect(error.message).toContain("wrangler d1 migrations apply <database_name>");
    expect(error.message).toContain("--local");
  });
});

function parse(query: string): { status?: string } {
  const status = new URLSearchParams(query).get("status");
  return status ? { status } : {};
}

declare global {
  namespace Cloudflare {
    interface Env {
      SHARDED: DurableObjectNamespace;
      SHARD_DB: D1Database;
      SHARD_DB_1: D1Database;
      SHARD_DB_2: D1Database;
    }
  }
}
