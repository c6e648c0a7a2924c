import {
  createExecutionContext,
  createScheduledController,
  env,
  runInDurableObject,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import {
  defineAgent,
  type LedgerEvent,
  mintIndexToken,
  mintSessionToken,
  scriptedModel,
} from "@durable-agents/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyRetention, INDEX_DELAY_MS } from "../src/d1/index.ts";
import { createAgentServer, routeRequest } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { unindexedWarnings } from "./fixture/unindexed.ts";
import worker from "./fixture/worker.ts";
import { MIGRATIONS, migrateIndexDb, resetIndexDb, schema } from "./support/index-db.ts";
import { indexedRun, indexGet, listedSessions, outboxSize } from "./support/indexed.ts";
import { BASE, isTerminal, session } from "./support/session.ts";

const adminToken = () => mintIndexToken(env.AUTH_SECRET);

async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    // A request in flight when an injected crash resets the object fails: read again.
    const value = await read().catch((error: unknown) => {
      if (Date.now() > end) throw error;
      return undefined;
    });
    if (value !== undefined && (done(value) || Date.now() > end)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface UsageEntry {
  seq: number;
  kind: string;
  name: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
}

async function usageRows(agent: string, name: string): Promise<UsageEntry[]> {
  const { results } = await env.INDEX_DB.prepare(
    "SELECT seq, kind, name, calls, input_tokens, output_tokens FROM da_usage WHERE agent = ? AND session = ? ORDER BY seq",
  )
    .bind(agent, name)
    .all<UsageEntry>();
  return results;
}

/** The index's usage entries for a transcript: one per run, kind and name, keyed by its first seq. */
function expectedUsage(events: LedgerEvent[]): UsageEntry[] {
  const entries = new Map<string, UsageEntry>();
  for (const e of events) {
    const kind = e.kind === "model.completed" ? "model" : e.kind.startsWith("tool.") ? "tool" : "";
    if (!kind || !["model.completed", "tool.completed", "tool.failed"].includes(e.kind)) continue;
    const data = e.data as {
      model?: string;
      name?: string;
      usage?: { inputTokens: number; outputTokens: number };
    };
    const name = (kind === "model" ? data.model : data.name) ?? "";
    const key = `${e.runId}|${kind}|${name}`;
    const entry = entries.get(key) ?? {
      seq: e.seq,
      kind,
      name,
      calls: 0,
      input_tokens: 0,
      output_tokens: 0,
    };
    entry.calls++;
    entry.input_tokens += data.usage?.inputTokens ?? 0;
    entry.output_tokens += data.usage?.outputTokens ?? 0;
    entries.set(key, entry);
  }
  return [...entries.values()].sort((a, b) => a.seq - b.seq);
}

describe("D1 migrations: versioned, forward-only", () => {
  beforeEach(() => resetIndexDb());

  it("apply from an empty database, and a second run changes nothing", async () => {
    await migrateIndexDb();
    const full = await schema();
    expect(full.length).toBeGreaterThan(5);
    await migrateIndexDb();
    expect(await schema()).toEqual(full);
    const { results } = await env.INDEX_DB.prepare(
      "SELECT name FROM d1_migrations ORDER BY id",
    ).all();
    expect(results.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  for (let from = 1; from < MIGRATIONS.length; from++) {
    it(`upgrade from version ${from} keeps the data and ends at the same schema`, async () => {
      await migrateIndexDb();
      const full = await schema();
      await resetIndexDb();
      await migrateIndexDb(from);
      await env.INDEX_DB.prepare(
        "INSERT INTO da_sessions (agent, session, status, run_id, user, created_at, updated_at, last_seq) VALUES ('a', 's', 'completed', 'r', 'u', 1, 2, 3)",
      ).run();
      if (from >= 2)
        await env.INDEX_DB.prepare(
          "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name) VALUES ('a', 's', 1, '2026-01-01', 1, 'model', 'm')",
        ).run();
      await migrateIndexDb();
      expect(await schema()).toEqual(full);
      expect(
        await env.INDEX_DB.prepare(
          "SELECT status, user FROM da_sessions WHERE agent = 'a'",
        ).first(),
      ).toEqual({ status: "completed", user: "u" });
    });
  }
});

describe("the cross-session index", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });
  afterEach(() => probe.reset());

  it("a session's status and usage reach D1 through its outbox", async () => {
    const s = await indexedRun({ user: "ada", tags: ["beta", "eu"] });
    const row = await env.INDEX_DB.prepare(
      "SELECT status, user, last_seq FROM da_sessions WHERE agent = 'indexed' AND session = ?",
    )
      .bind(s.session)
      .first();
    const events = await s.events();
    expect(row).toMatchObject({ status: "completed", user: "ada" });
    const usage = await usageRows("indexed", s.session);
    // One entry per run and model (two model calls) and per tool, not one per call.
    expect(usage.map((r) => [r.kind, r.calls])).toEqual([
      ["model", 2],
      ["tool", 1],
    ]);
    expect(usage).toEqual(expectedUsage(events));
  });

  // Review finding: a session with only `POST .../usage` metrics had no da_sessions row and
  // `status=idle` was refused, so GET /usage counted a session GET /sessions could not show.
  it("a session that records usage is listed, with its status: idle before any run", async () => {
    const s = session("indexed");
    expect((await s.post("usage", { metric: "emails_sent", value: 2 })).status).toBe(201);
    await until(
      () => outboxSize(s.stub()),
      (n) => n === 0,
    );
    const usage = (await (await indexGet("/usage?agent=indexed&kind=metric")).json()) as {
      rows: { name: string; value: number }[];
    };
    expect(usage.rows).toMatchObject([{ name: "emails_sent", value: 2 }]);
    const idle = await indexGet("/sessions?agent=indexed&status=idle");
    expect(idle.status).toBe(200);
    const { sessions } = (await idle.json()) as { sessions: { session: string; status: string }[] };
    expect(sessions).toMatchObject([{ session: s.session, status: "idle", runId: null }]);
  });

  it("usage recorded after retention deleted a session's row writes the row again, with its status", async () => {
    const s = await indexedRun();
    await applyRetention(env.INDEX_DB, { days: 90, now: Date.now() + 91 * 86_400_000 });
    const row = () =>
      env.INDEX_DB.prepare(
        "SELECT status, run_id FROM da_sessions WHERE agent = 'indexed' AND session = ?",
      )
        .bind(s.session)
        .first<{ status: string; run_id: string }>();
    expect(await row()).toBeNull();
    const [run] = (await s.events()).filter((e) => e.kind === "run.completed");
    expect((await s.post("usage", { metric: "emails_sent", value: 1 })).status).toBe(201);
    expect(
      await until(
        () => row(),
        (r) => r !== null,
      ),
    ).toEqual({ status: "completed", run_id: run?.runId });
  });

  // Review finding: usage recorded today on a session whose last run ended 100 days ago left
  // its row as it was (the usage fact inserts only), and retention deleted that row by its
  // updated_at while keeping the newer usage: GET /usage counted a session GET /sessions
  // could not show.
  it("retention keeps a session's row while the index keeps usage of it", async () => {
    const s = await indexedRun();
    // Its run ended 100 days ago: its row and its run's usage as if written then.
    const day = 86_400_000;
    const then = Date.now() - 100 * day;
    await env.INDEX_DB.batch([
      env.INDEX_DB.prepare(
        "UPDATE da_sessions SET updated_at = ? WHERE agent = 'indexed' AND session = ?",
      ).bind(then, s.session),
      env.INDEX_DB.prepare(
        "UPDATE da_usage SET ts = ?, day = ? WHERE agent = 'indexed' AND session = ?",
      ).bind(then, new Date(then).toISOString().slice(0, 10), s.session),
    ]);
    expect((await s.post("usage", { metric: "emails_sent", value: 3 })).status).toBe(201);
    await until(
      () => outboxSize(s.stub()),
      (n) => n === 0,
    );
    const counted = async () =>
      (
        (await (await indexGet("/usage?agent=indexed")).json()) as {
          rows: { kind: string; name: string; value: number }[];
        }
      ).rows;
    const shown = async () => (await listedSessions()).map((r) => r.session);
    await applyRetention(env.INDEX_DB, { days: 90 });
    expect(await counted()).toMatchObject([{ kind: "metric", name: "emails_sent", value: 3 }]);
    expect(await shown()).toEqual([s.session]);
    // Once that usage is past the period too, both go.
    await applyRetention(env.INDEX_DB, { days: 90, now: Date.now() + 91 * day });
    expect({ counted: await counted(), shown: await shown() }).toEqual({ counted: [], shown: [] });
  });

  it("a run costs one D1 batch of 5 statements; unchanged tags are not rewritten", async () => {
    const s = await indexedRun({ user: "ada", tags: ["beta", "eu"] });
    expect(probe.executions(`d1:batches:${s.session}`)).toBe(1);
    expect(probe.executions(`d1:statements:${s.session}`)).toBe(5);
    const tagRows = () =>
      env.INDEX_DB.prepare(
        "SELECT rowid, tag FROM da_session_tags WHERE agent = 'indexed' AND session = ? ORDER BY tag",
      )
        .bind(s.session)
        .all()
        .then((r) => r.results);
    const before = await tagRows();
    expect(before.map((r) => r.tag)).toEqual(["beta", "eu"]);
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "indexed",
      session: s.session,
      user: "ada",
      tags: ["eu", "beta"],
    });
    const again = await SELF.fetch(s.url("runs"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping again" } }),
    });
    expect(again.status).toBe(202);
    await until(
      () => s.events(),
      (events) => events.filter(isTerminal).length === 2,
    );
    await until(
      () => outboxSize(s.stub()),
      (n) => n === 0,
    );
    expect(probe.executions(`d1:batches:${s.session}`)).toBe(2);
    expect(probe.executions(`d1:statements:${s.session}`)).toBe(10);
    // Same rows, same rowids: the tags were neither deleted nor inserted again.
    expect(await tagRows()).toEqual(before);
    expect(await usageRows("indexed", s.session)).toEqual(expectedUsage(await s.events()));
    // Changed tags are written: "beta" goes, "eu" stays as it was, "us" comes.
    const changed = await mintSessionToken(env.AUTH_SECRET, {
      agent: "indexed",
      session: s.session,
      tags: ["us", "eu"],
    });
    const third = await SELF.fetch(s.url("runs"), {
      method: "POST",
      headers: { authorization: `Bearer ${changed}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping once more" } }),
    });
    expect(third.status).toBe(202);
    await until(
      () => s.events(),
      (events) => events.filter(isTerminal).length === 3,
    );
    await until(
      () => outboxSize(s.stub()),
      (n) => n === 0,
    );
    const after = await tagRows();
    expect(after.map((r) => r.tag)).toEqual(["eu", "us"]);
    expect(after[0]).toEqual(before[1]);
  });

  it("GET /sessions lists by agent, status, user and tag, with cursor pagination", async () => {
    const a = await indexedRun({ user: "ada", tags: ["beta"] });
    const b = await indexedRun({ user: "bob", tags: ["beta", "eu"] });
    const c = await indexedRun({ user: "ada" });
    const names = async (query: string) => {
      const response = await indexGet(`/sessions?${query}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { sessions: { session: string }[] };
      return body.sessions.map((x) => x.session).sort();
    };
    expect(await names("agent=indexed")).toEqual([a, b, c].map((x) => x.session).sort());
    expect(await names("user=ada")).toEqual([a, c].map((x) => x.session).sort());
    expect(await names("tag=eu")).toEqual([b.session]);
    expect(await names("tag=beta&user=bob")).toEqual([b.session]);
    expect(await names("status=running")).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await indexGet(
        `/sessions?agent=indexed&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      const page = (await response.json()) as {
        sessions: { session: string; tags: string[] }[];
        nextCursor: string | null;
      };
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((x) => x.session));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([a, b, c].map((x) => x.session).sort());
    const bob = (await (await indexGet("/sessions?user=bob")).json()) as {
      sessions: { tags: string[]; status: string }[];
    };
    expect(bob.sessions[0]).toMatchObject({ tags: ["beta", "eu"], status: "completed" });
  });

  it("GET /usage rolls up across sessions by day, agent and model", async () => {
    const a = await indexedRun();
    const b = await indexedRun();
    const tokens = async (s: typeof a) =>
      (await s.events())
        .filter((e) => e.kind === "model.completed")
        .reduce((t, e) => t + (e.data as { usage: { inputTokens: number } }).usage.inputTokens, 0);
    const response = await indexGet("/usage?agent=indexed&kind=model");
    expect(response.status).toBe(200);
    const { rows } = (await response.json()) as {
      rows: {
        day: string;
        agent: string;
        name: string;
        count: number;
        inputTokens: number;
        cost: number;
      }[];
    };
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      day: new Date().toISOString().slice(0, 10),
      agent: "indexed",
      name: "scripted:scripted-1",
      count: 4,
      inputTokens: (await tokens(a)) + (await tokens(b)),
    });
    const tools = (await (await indexGet("/usage?kind=tool&agent=indexed")).json()) as {
      rows: { name: string; count: number }[];
    };
    expect(tools.rows).toMatchObject([{ name: "ping", count: 2 }]);
  });

  // Review finding: a fork copies its source's ledger prefix, and the copied model and tool
  // events were delivered to the index as the fork's own usage, so GET /usage counted the
  // source's model calls and tokens twice (once per fork) though no model was called again.
  it("a fork that calls no model adds nothing to GET /usage: copied history is not spent again", async () => {
    const a = await indexedRun();
    const before = (await (await indexGet("/usage?agent=indexed&kind=model")).json()) as {
      rows: { count: number; inputTokens: number }[];
    };
    const { checkpoints } = (await (await a.get("checkpoints")).json()) as {
      checkpoints: { id: string; kind: string }[];
    };
    const last = checkpoints.at(-1)!;
    // Into a session the server names: a token for the source may (docs/api.md#auth).
    const forked = await a.post("fork", { checkpoint: last.id });
    expect(forked.status).toBe(201);
    const target = ((await forked.json()) as { session: string }).session;
    const fork = session("indexed", target);
    await until(
      () => outboxSize(fork.stub()),
      (n) => n === 0,
    );
    expect((await listedSessions()).map((row) => row.session)).toContain(target);
    const after = (await (await indexGet("/usage?agent=indexed&kind=model")).json()) as {
      rows: { count: number; inputTokens: number }[];
    };
    expect(after.rows).toEqual(before.rows);
  });

  it("a fork's own model calls are counted, its copied prefix never: not in its GET .../usage, not after a rebuild and a replay of its outbox", async () => {
    const a = await indexedRun();
    type Rows = { rows: { count: number; inputTokens: number; outputTokens: number }[] };
    const modelUsage = async () =>
      ((await (await indexGet("/usage?agent=indexed&kind=model")).json()) as Rows).rows;
    const before = await modelUsage();
    expect(before).toHaveLength(1);
    const { checkpoints } = (await (await a.get("checkpoints")).json()) as {
      checkpoints: { id: string }[];
    };
    // Into a session the server names: a token for the source may (docs/api.md#auth).
    const forked = await a.post("fork", { checkpoint: checkpoints.at(-1)!.id });
    expect(forked.status).toBe(201);
    const target = ((await forked.json()) as { session: string }).session;
    const fork = session("indexed", target);
    const copied = (await fork.events()).length;
    // The fork's own usage route shows what the fork spent: nothing yet.
    const own = (await (await fork.get("usage")).json()) as {
      models: unknown[];
      tools: unknown[];
      rollup: { modelCalls: number; inputTokens: number };
    };
    expect(own).toMatchObject({ models: [], tools: [], rollup: { modelCalls: 0, inputTokens: 0 } });
    const usageEntries = () =>
      runInDurableObject(
        fork.stub(),
        (_i, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_entries").one().n,
      );
    expect(await usageEntries()).toBe(0);

    // A rebuild of the fork's usage and index projections replays its ledger (and enqueues
    // every index message again, which the outbox then delivers again): still nothing.
    await until(
      () => outboxSize(fork.stub()),
      (n) => n === 0,
    );
    await runInDurableObject(fork.stub(), (_i, state) => {
      state.storage.sql.exec(
        "DELETE FROM projection_versions WHERE name IN ('usage', 'usage_entries', 'd1_index')",
      );
    });
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(fork.stub());
    expect(((await (await fork.get("usage")).json()) as typeof own).models).toEqual([]);
    expect(await usageEntries()).toBe(0);
    // The rebuild ran (its versions are back); its messages may already be delivered.
    const rebuilt = await runInDurableObject(fork.stub(), (_i, state) =>
      state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM projection_versions WHERE name IN ('usage', 'usage_entries', 'd1_index') ORDER BY name",
        )
        .toArray()
        .map((row) => row.name),
    );
    expect(rebuilt).toEqual(["d1_index", "usage", "usage_entries"]);
    await until(
      () => outboxSize(fork.stub()),
      (n) => n === 0,
    );
    expect(await modelUsage()).toEqual(before);
    expect(await usageRows("indexed", target)).toEqual([]);

    // The fork's own run calls the model: that is counted, once, as the fork's.
    expect((await fork.post("runs", { input: { message: "again" } })).status).toBe(202);
    await fork.waitFor((e) => e.seq > copied && isTerminal(e));
    await until(
      () => outboxSize(fork.stub()),
      (n) => n === 0,
    );
    const spent = (await fork.events()).filter(
      (e) => e.seq > copied && e.kind === "model.completed",
    );
    expect(spent.length).toBeGreaterThan(0);
    const tokens = spent.reduce(
      (t, e) => {
        const { usage } = e.data as { usage: { inputTokens: number; outputTokens: number } };
        return { input: t.input + usage.inputTokens, output: t.output + usage.outputTokens };
      },
      { input: 0, output: 0 },
    );
    expect(await modelUsage()).toMatchObject([
      {
        count: before[0]!.count + spent.length,
        inputTokens: before[0]!.inputTokens + tokens.input,
        outputTokens: before[0]!.outputTokens + tokens.output,
      },
    ]);
    expect(((await (await fork.get("usage")).json()) as typeof own).rollup).toMatchObject({
      modelCalls: spent.length,
      inputTokens: tokens.input,
    });
  });

  it("the index routes need an admin token; a session token is refused", async () => {
    const s = session("indexed");
    const sessionToken = await mintSessionToken(env.AUTH_SECRET, {
      agent: "indexed",
      session: s.session,
    });
    const noToken = await SELF.fetch(`${BASE}/sessions`);
    expect(noToken.status).toBe(401);
    // The 401 names the function that mints the token this route takes, not a session's.
    const { error } = (await noToken.json()) as {
      error: { message: string; details?: { mint?: string } };
    };
    expect(error.message).toContain("mintIndexToken");
    expect(error.message).not.toContain("mintSessionToken");
    // ... and says so in `details.mint`, which the CLI reads (not the message).
    expect(error.details?.mint).toBe("mintIndexToken");
    const wrong = await indexGet("/sessions", sessionToken);
    expect(wrong.status).toBe(403);
    // The 403 says which token the route takes too, not only the subject "*".
    expect(await wrong.json()).toMatchObject({
      error: {
        code: "wrong_session",
        message: expect.stringContaining("mintIndexToken"),
        details: { mint: "mintIndexToken" },
      },
    });
    // ... and names the index in words, not as its internal subject "*".
    const refusal = await indexGet("/sessions", sessionToken);
    const { error: wrongError } = (await refusal.json()) as { error: { message: string } };
    expect(wrongError.message).toContain("not the index (GET /sessions, GET /usage)");
    expect(wrongError.message).not.toContain('"*"');
    expect((await indexGet("/usage", "da1.bad.token")).status).toBe(401);
  });

  it("a router given no index answers /sessions and /usage with 404 index_off, though INDEX_DB is bound and holds rows", async () => {
    await env.INDEX_DB.prepare(
      "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('stale', 'old', 'completed', 1, 1, 1)",
    ).run();
    for (const path of ["/sessions", "/usage?from=2026-01-01"]) {
      const response = await routeRequest(
        new Request(`${BASE}${path}`, {
          headers: { authorization: `Bearer ${await adminToken()}` },
        }),
        env,
      );
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toMatchObject({
        error: {
          code: "index_off",
          message: expect.stringMatching(/INDEX_DB is bound, but no index was given.*d1Index\(\)/),
        },
      });
    }
    // It says the one place to declare the index (the server's, which routeRequest's `server`
    // carries), not the deprecated second copy on routeRequest.
    const { error } = (await (
      await routeRequest(
        new Request(`${BASE}/sessions`, {
          headers: { authorization: `Bearer ${await adminToken()}` },
        }),
        env,
      )
    ).json()) as { error: { message: string } };
    expect(error.message).toMatch(/createAgentServer\(\{ index \}\).*server: AgentSession/);
    expect(error.message).not.toContain("routeRequest(request, env, ctx, { index })");
    // The routes still ask for the admin token first: no token, no hint about the index.
    const anonymous = await routeRequest(new Request(`${BASE}/sessions`), env);
    expect(anonymous.status).toBe(401);
  });

  it("a Worker upgraded from the previous index option (`{ shards }`, `{ binding }`, untyped JS) is told to use d1Index(), not left failing every request", async () => {
    // Before the entry points, `index` was the options object itself (`{ binding?, shards?,
    // retention? }`) and the router took `{ binding, shards } | false`. TypeScript refuses
    // those now, but a JS Worker (or a config typed loosely) still passes them: at module load,
    // createAgentServer should say what to do, rather than every session request answering 500
    // "index?.covers is not a function".
    const agent = defineAgent({
      name: "upgraded",
      system: "x",
      model: scriptedModel({ turns: [{ text: "x" }] }),
    });
    for (const old of [{ shards: 2 }, { binding: "INDEX_DB" }, { retention: { days: 30 } }])
      expect(() => createAgentServer({ agents: [agent], index: old as never })).toThrow(
        /d1Index\(\)/,
      );
    // The router's old `{ binding, shards }`: its index routes fail, and the log (which gets a
    // 500's cause) should name d1Index(), not "index.serve is not a function". Its old `false`
    // is still no index.
    const logged: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (message: string, fields?: Record<string, unknown>) =>
        void logged.push(`${message} ${JSON.stringify(fields)}`),
    };
    const request = async () =>
      new Request(`${BASE}/sessions`, {
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
    const response = await routeRequest(await request(), env, undefined, {
      index: { binding: "INDEX_DB", shards: 1 } as never,
      logger,
    });
    expect(response.status).toBe(500);
    expect(logged.join("\n")).toMatch(/index must be the value d1Index\(\) returns/);
    const off = await routeRequest(await request(), env, undefined, { index: false as never });
    expect(off.status).toBe(404);
  });

  it("a server with no index in a Worker that binds INDEX_DB writes nothing to it, and warns once per isolate", async () => {
    const before = await env.INDEX_DB.prepare("SELECT count(*) AS n FROM da_sessions").first<{
      n: number;
    }>();
    for (const name of ["unindexed-1", "unindexed-2"]) {
      const stub = env.UNINDEXED.get(env.UNINDEXED.idFromName(`indexed/${name}`));
      const started = await stub.fetch(`${BASE}/agents/indexed/${name}/runs`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session: name })}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ input: { message: "ping" } }),
      });
      expect(started.status).toBe(202);
      const events = await until(
        async () =>
          (await stub
            .fetch(`${BASE}/agents/indexed/${name}/events?offset=-1`, {
              headers: {
                authorization: `Bearer ${await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session: name })}`,
              },
            })
            .then((r) => r.json())) as LedgerEvent[],
        (events) => events.some(isTerminal),
      );
      expect(events.at(-1)?.kind).toBe("run.completed");
    }
    expect(unindexedWarnings).toEqual([
      {
        message: expect.stringMatching(
          /^INDEX_DB is a D1 binding, but createAgentServer has no index: sessions are not written/,
        ),
        fields: { code: "index_not_enabled" },
      },
    ]);
    // Past the index delay: nothing was delivered.
    await new Promise((r) => setTimeout(r, INDEX_DELAY_MS + 200));
    const after = await env.INDEX_DB.prepare("SELECT count(*) AS n FROM da_sessions").first<{
      n: number;
    }>();
    expect(after?.n).toBe(before?.n);
  });

  it("bad queries are 400s", async () => {
    for (const query of [
      "/sessions?limit=0",
      "/sessions?limit=abc",
      "/sessions?cursor=nope",
      "/sessions?agent=%00",
      "/sessions?status=bogus",
      "/usage?from=yesterday",
      "/usage?kind=everything",
      "/usage?from=2026-13-01",
      "/usage?from=2026-02-30",
      "/usage?to=2026-04-31",
      "/usage?from=2025-02-29",
      "/usage?to=2026-00-10",
      "/usage?from=2026-05-02&to=2026-05-01",
    ]) {
      const response = await indexGet(query);
      expect(response.status, query).toBe(400);
      if (query.includes("-"))
        expect(await response.json(), query).toMatchObject({
          error: { code: "invalid_query", message: expect.stringMatching(/calendar day/) },
        });
    }
    // Real days, a leap day among them, still answer.
    for (const query of [
      "/usage?from=2024-02-29&to=2024-03-01",
      "/usage?to=2026-12-31",
      "/usage?from=2026-05-01&to=2026-05-01",
      "/sessions?status=waiting",
    ])
      expect((await indexGet(query)).status, query).toBe(200);
  });
});

describe("the outbox survives crashes: no loss, no double count", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });
  afterEach(() => probe.reset());

  for (const point of ["before-d1-write", "after-d1-write"] as const) {
    it(`crash ${point.replace("-d1-write", " the D1 write")}`, async () => {
      probe.crashAt(point);
      const s = await indexedRun();
      expect(probe.executions(`fault:${point}`)).toBe(1);
      const usageEvents = (await s.events()).filter((e) =>
        ["model.completed", "tool.completed"].includes(e.kind),
      );
      const rows = await usageRows("indexed", s.session);
      expect(rows).toEqual(expectedUsage(await s.events()));
      const { total } = (await env.INDEX_DB.prepare(
        "SELECT sum(input_tokens) AS total FROM da_usage WHERE session = ?",
      )
        .bind(s.session)
        .first<{ total: number }>()) ?? { total: -1 };
      expect(total).toBe(
        usageEvents.reduce(
          (t, e) => t + ((e.data as { usage?: { inputTokens: number } }).usage?.inputTokens ?? 0),
          0,
        ),
      );
    });
  }
});

describe("the index is off the run's critical path", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });
  afterEach(() => probe.reset());

  /** Starts a run whose first model call stalls past the index delay (INDEX_DELAY_MS), so a delivery starts mid-run. */
  async function slowRun() {
    const s = session("indexed");
    probe.delaySessionAt(s.session, "before-model", INDEX_DELAY_MS + 500);
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "indexed", session: s.session });
    const start = await SELF.fetch(s.url("runs"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping please" } }),
    });
    expect(start.status).toBe(202);
    return s;
  }

  async function expectDeliveredOnce(s: ReturnType<typeof session>) {
    await until(
      () => outboxSize(s.stub()),
      (n) => n === 0,
      30_000,
    );
    const events = await s.events();
    expect(await usageRows("indexed", s.session)).toEqual(expectedUsage(events));
    const row = await env.INDEX_DB.prepare(
      "SELECT status, last_seq FROM da_sessions WHERE agent = 'indexed' AND session = ?",
    )
      .bind(s.session)
      .first();
    expect(row).toEqual({ status: "completed", last_seq: events.at(-1)?.seq });
  }

  it("a hung D1 neither holds nor changes a run; the batch lands when D1 answers", async () => {
    const control = await indexedRun();
    probe.pauseAt("before-d1-write");
    const s = await slowRun();
    await s.waitFor(isTerminal);
    // The run ended while its index delivery hangs: started, unanswered, nothing in D1.
    expect(probe.executions("fault:before-d1-write")).toBe(1);
    expect(await outboxSize(s.stub())).toBeGreaterThan(0);
    expect(await usageRows("indexed", s.session)).toEqual([]);
    const kinds = async (x: typeof s) => (await x.events()).map((e) => e.kind);
    expect(await kinds(s)).toEqual(await kinds(control));
    probe.open("before-d1-write");
    await expectDeliveredOnce(s);
  });

  it("a failing D1 neither holds nor fails a run; deliveries retry until it is back", async () => {
    const control = await indexedRun();
    const s = await slowRun();
    probe.failSessionAt(s.session, "before-d1-write");
    await s.waitFor(isTerminal);
    const kinds = async (x: typeof s) => (await x.events()).map((e) => e.kind);
    expect(await kinds(s)).toEqual(await kinds(control));
    await until(
      async () => probe.executions("fault:before-d1-write"),
      (n) => n >= 2,
      15_000,
    );
    expect(await usageRows("indexed", s.session)).toEqual([]);
    probe.reset();
    await expectDeliveredOnce(s);
  });
});

describe("retention", () => {
  beforeEach(async () => {
    await resetIndexDb();
    await migrateIndexDb();
  });

  it("the scheduled handler deletes entries older than N days", async () => {
    const now = Date.UTC(2026, 5, 30);
    const old = now - 31 * 86_400_000;
    const fresh = now - 86_400_000;
    const db = env.INDEX_DB;
    await db.batch([
      db
        .prepare(
          "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name) VALUES ('a', 'old', 1, '2026-05-30', ?, 'model', 'm'), ('a', 'new', 1, '2026-06-29', ?, 'model', 'm')",
        )
        .bind(old, fresh),
      db
        .prepare(
          "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('a', 'old', 'completed', ?, ?, 1), ('a', 'stuck', 'running', ?, ?, 1), ('a', 'new', 'completed', ?, ?, 1)",
        )
        .bind(old, old, old, old, fresh, fresh),
    ]);
    const ctx = createExecutionContext();
    worker.scheduled(
      createScheduledController({ scheduledTime: now, cron: "0 3 * * *" }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const usage = await db.prepare("SELECT session FROM da_usage ORDER BY session").all();
    expect(usage.results).toEqual([{ session: "new" }]);
    const sessions = await db.prepare("SELECT session FROM da_sessions ORDER BY session").all();
    expect(sessions.results).toEqual([{ session: "new" }, { session: "stuck" }]);
    expect(await applyRetention(db, { days: 30, now })).toEqual({
      usage: 0,
      sessions: 0,
      more: false,
    });
  });

  it("a pass deletes at most `chunk` rows per table, oldest first", async () => {
    const now = Date.UTC(2026, 5, 30);
    const db = env.INDEX_DB;
    const insertUsage = db.prepare(
      "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name) VALUES ('a', 's', ?, '2026-01-01', ?, 'model', 'm')",
    );
    await db.batch(
      Array.from({ length: 7 }, (_, i) => insertUsage.bind(i + 1, now - (100 - i) * 86_400_000)),
    );
    const remaining = async () =>
      (
        await db.prepare("SELECT seq FROM da_usage ORDER BY seq").all<{ seq: number }>()
      ).results.map((r) => r.seq);
    expect(await applyRetention(db, { days: 30, now, chunk: 3 })).toEqual({
      usage: 3,
      sessions: 0,
      more: true,
    });
    expect(await remaining()).toEqual([4, 5, 6, 7]);
    expect(await applyRetention(db, { days: 30, now, chunk: 3 })).toMatchObject({ usage: 3 });
    expect(await applyRetention(db, { days: 30, now, chunk: 3 })).toEqual({
      usage: 1,
      sessions: 0,
      more: false,
    });
    expect(await remaining()).toEqual([]);
    await expect(applyRetention(db, { days: 30, chunk: 0 })).rejects.toThrow(RangeError);
  });

  it("is on by default: each delivery runs one bounded pass, and runs never wait for it", async () => {
    const db = env.INDEX_DB;
    const old = Date.now() - 100 * 86_400_000;
    await db.batch([
      ...Array.from({ length: 5 }, (_, i) =>
        db
          .prepare(
            "INSERT INTO da_usage (agent, session, seq, day, ts, kind, name) VALUES ('old', 'o', ?, '2026-01-01', ?, 'model', 'm')",
          )
          .bind(i + 1, old + i),
      ),
      db
        .prepare(
          "INSERT INTO da_sessions (agent, session, status, created_at, updated_at, last_seq) VALUES ('old', 'a', 'completed', ?, ?, 1), ('old', 'b', 'failed', ?, ?, 1), ('old', 'c', 'aborted', ?, ?, 1), ('old', 'busy', 'running', ?, ?, 1)",
        )
        .bind(old, old, old + 1, old + 1, old + 2, old + 2, old, old),
    ]);
    const left = async () => ({
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
    });
    await indexedRun();
    expect(await until(left, (x) => x.usage === 3)).toEqual({ usage: 3, sessions: ["busy", "c"] });
    await indexedRun();
    expect(await until(left, (x) => x.usage === 1)).toEqual({ usage: 1, sessions: ["busy"] });
    await indexedRun();
    expect(await until(left, (x) => x.usage === 0)).toEqual({ usage: 0, sessions: ["busy"] });
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      /** fixture/unindexed.ts: a server without an index, in this Worker that binds INDEX_DB. */
      UNINDEXED: DurableObjectNamespace;
    }
  }
}
