import { env, SELF } from "cloudflare:test";
import { type LedgerEvent, mintSessionToken } from "@durable-agents/core";
import { beforeEach, describe, expect, it } from "vitest";
import { INDEX_MIGRATIONS, INDEX_SCHEMA_VERSION } from "../src/d1/index.ts";
import m1 from "../src/d1/migrations/0001_sessions.sql?raw";
import m2 from "../src/d1/migrations/0002_usage.sql?raw";
import m3 from "../src/d1/migrations/0003_filters.sql?raw";
import m4 from "../src/d1/migrations/0004_usage_per_run.sql?raw";
import { createStore } from "../src/index.ts";
import { commandLog } from "./fixture/platform.ts";
import { migrateIndexDb, resetIndexDb, schema } from "./support/index-db.ts";
import { isTerminal, session } from "./support/session.ts";
import { until } from "./support/until.ts";

const store = createStore(env);

const isWaiting = (e: LedgerEvent) => e.kind === "run.waiting";

/** A finished `lead` run: two sub-agent calls in step 1, a summary in step 2. */
async function leadRun() {
  const s = session("lead");
  expect((await s.post("runs", { input: { message: "research" } })).status).toBe(202);
  // The run waits for its sub-agents first (run.waiting), then completes.
  await s.waitFor((e) => isTerminal(e) && e.kind !== "run.waiting", 20_000);
  return s;
}

describe("store.session: reads over DO RPC, the same readers as the HTTP routes", () => {
  it("exists and status: a fresh session does not exist; a run makes it exist; bad ids and agents are typed errors", async () => {
    const fresh = store.session("probe", `fresh-${Date.now()}`);
    expect(await fresh.exists()).toBe(false);
    expect(await fresh.status()).toMatchObject({ status: "idle", runId: null, exists: false });
    const s = await leadRun();
    const handle = store.session("lead", s.session);
    expect(await handle.exists()).toBe(true);
    const [viaStore, viaHttp] = await Promise.all([handle.status(), s.get("status")]);
    expect(viaStore).toEqual(await viaHttp.json());
    expect(viaStore.status).toBe("completed");
    expect(() => store.session("lead", "no spaces")).toThrow(
      expect.objectContaining({ code: "invalid_path", status: 400 }),
    );
    await expect(store.session("ghost", "s1").status()).rejects.toMatchObject({ status: 404 });
  });

  it("messages page as GET .../messages does, forward and backward", async () => {
    const s = await leadRun();
    const handle = store.session("lead", s.session);
    const all = await handle.messages({ limit: 200 });
    expect(all.messages.length).toBeGreaterThanOrEqual(3);
    const first = await handle.messages({ limit: 1 });
    expect(first).toEqual(await (await s.get("messages", "limit=1")).json());
    const second = await handle.messages({ limit: 1, cursor: first.nextCursor ?? "" });
    expect(second.messages).toEqual(all.messages.slice(1, 2));
    const last = await handle.messages({ before: "end", limit: 1 });
    expect(last.messages).toEqual(all.messages.slice(-1));
    expect(last).toEqual(await (await s.get("messages", "before=end&limit=1")).json());
    await expect(handle.messages({ cursor: "x" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
  });

  it("checkpoints: get, latest and a list paged by cursor, equal to GET .../checkpoints", async () => {
    const s = await leadRun();
    const handle = store.session("lead", s.session);
    const everything = (await (await s.get("checkpoints", "limit=200")).json()) as {
      checkpoints: { id: string; kind: string }[];
    };
    expect(everything.checkpoints.map((c) => c.kind)).toEqual([
      "run.started",
      "step.completed",
      "step.completed",
    ]);
    const walked: unknown[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await handle.checkpoints({ limit: 1, ...(cursor ? { cursor } : {}) });
      walked.push(...page.checkpoints);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(walked).toEqual(everything.checkpoints);
    const [start, , end] = everything.checkpoints;
    expect(await handle.checkpoint(start?.id ?? "")).toEqual(start);
    expect(await handle.latestCheckpoint()).toEqual(end);
    const { runId } = await handle.status();
    expect(await handle.latestCheckpoint(runId ?? "")).toEqual(end);
    await expect(handle.checkpoint("999999")).rejects.toMatchObject({
      status: 404,
      code: "unknown_checkpoint",
    });
    await expect(handle.latestCheckpoint("r-nope")).rejects.toMatchObject({ code: "unknown_run" });
    expect(await store.session("lead", `empty-${Date.now()}`).latestCheckpoint()).toBeNull();
  });

  it("usage: the roll-up counts the sub-agents' tokens, as GET .../usage", async () => {
    const s = await leadRun();
    const usage = await store.session("lead", s.session).usage();
    expect(usage).toEqual(await (await s.get("usage")).json());
    const children = usage.subagents.reduce((t, a) => t + a.inputTokens, 0);
    const own = usage.models.reduce((t, m) => t + m.inputTokens, 0);
    expect(usage.subagents).toMatchObject([{ agent: "researcher", calls: 2 }]);
    expect(children).toBeGreaterThan(0);
    expect(usage.rollup).toMatchObject({ subagentCalls: 2, inputTokens: own + children });
  });

  it("usage entries one by one, filtered by kind and step range, with limit and offset", async () => {
    const s = await leadRun();
    const handle = store.session("lead", s.session);
    const events = await s.events();
    const { entries } = await handle.usageEntries();
    // One entry per usage fact of the ledger, at its seq.
    const facts = events.filter((e) =>
      ["model.completed", "tool.completed", "tool.failed", "subagent.completed"].includes(e.kind),
    );
    expect(entries.map((e) => e.seq)).toEqual(facts.map((e) => e.seq));
    // Step 1: the model call, then each delegated call's answer (subagent) and result (tool).
    expect(entries.map((e) => [e.kind, e.step]).sort()).toEqual(
      [
        ["model", 1],
        ["model", 2],
        ["subagent", 1],
        ["subagent", 1],
        ["tool", 1],
        ["tool", 1],
      ].sort(),
    );
    const models = await handle.usageEntries({ kinds: ["model"] });
    expect(models.entries.map((e) => e.step)).toEqual([1, 2]);
    const step2 = await handle.usageEntries({ fromStep: 2, toStep: 2 });
    expect(step2.entries.map((e) => e.kind)).toEqual(["model"]);
    const delegated = await handle.usageEntries({ kinds: ["subagent", "tool"], toStep: 1 });
    expect(delegated.entries.map((e) => e.name).sort()).toEqual([
      "research",
      "research",
      "researcher",
      "researcher",
    ]);
    expect(delegated.entries.every((e) => e.kind === "tool" || e.inputTokens > 0)).toBe(true);
    const page = await handle.usageEntries({ limit: 2, offset: 1 });
    expect(page.entries).toEqual(entries.slice(1, 3));
    expect(page.nextOffset).toBe(3);
    expect((await handle.usageEntries({ offset: 4 })).nextOffset).toBeNull();
    expect((await handle.usageEntries({ offset: 4 })).entries).toEqual(entries.slice(4));
    for (const bad of [{ fromStep: 3, toStep: 1 }, { kinds: ["tokens"] }, { limit: 0 }])
      await expect(handle.usageEntries(bad as never)).rejects.toMatchObject({
        status: 400,
        code: "invalid_request",
      });
  });
});

describe("store.session.compareAndSetStatus: expected → next through the session commands", () => {
  it("moves waiting → interrupted → running → aborted, refuses a stale expectation, and counts the resume", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "wire" } });
    await s.waitFor(isWaiting);
    const handle = store.session("approver", s.session);
    expect(await handle.resumeCount()).toMatchObject({ resumeCount: 0 });

    const stale = handle.compareAndSetStatus("running", "interrupted");
    await expect(stale).rejects.toMatchObject({
      status: 409,
      code: "status_conflict",
      details: { expected: ["running"], status: "waiting" },
    });
    const interrupted = await handle.compareAndSetStatus(["running", "waiting"], "interrupted", {
      reason: "lunch",
    });
    expect(interrupted).toMatchObject({
      previous: "waiting",
      command: "interrupt",
      result: { status: "interrupted" },
    });
    // The command's hooks ran, on the store transport.
    expect(commandLog).toContain(`before:interrupt:store:${s.session}`);

    const resumed = await handle.compareAndSetStatus("interrupted", "running");
    expect(resumed).toMatchObject({ previous: "interrupted", command: "resume" });
    expect(await handle.resumeCount()).toMatchObject({ resumeCount: 1 });
    await until(
      () => handle.status(),
      (st) => st.status === "waiting",
    );
    await expect(handle.compareAndSetStatus("completed", "running")).rejects.toMatchObject({
      status: 400,
      code: "illegal_status_transition",
    });
    const aborted = await handle.compareAndSetStatus(["running", "waiting"], "aborted");
    expect(aborted).toMatchObject({ command: "abort", result: { status: "aborted" } });
    const kinds = (await s.events()).map((e) => e.kind);
    expect(kinds.filter((k) => k === "run.interrupted" || k === "run.aborted")).toEqual([
      "run.interrupted",
      "run.aborted",
    ]);
  });

  it("of concurrent compare-and-sets from one status, exactly one moves the session", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "wire" } });
    await s.waitFor(isWaiting);
    const handle = store.session("approver", s.session);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => handle.compareAndSetStatus("waiting", "aborted")),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === "rejected"))
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: "status_conflict" });
    expect((await s.events()).filter((e) => e.kind === "run.aborted")).toHaveLength(1);
  });
});

/** An `indexed` run with the caller's identity, finished and delivered to the index. */
async function indexedRun(user: string, tag: string) {
  const s = session("indexed");
  const token = await mintSessionToken(env.AUTH_SECRET, {
    agent: "indexed",
    session: s.session,
    user,
    tags: [tag],
  });
  await SELF.fetch(s.url("runs"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ input: { message: "ping" } }),
  });
  await s.waitFor(isTerminal);
  await until(
    () => store.findSessionIds({ agent: "indexed", user }),
    (page) => page.sessions.some((x) => x.session === s.session),
  );
  return s.session;
}

describe("store: the D1 index", () => {
  beforeEach(async () => {
    await resetIndexDb();
  });

  it("runMigrations, isMigrated and migrationVersion on a fresh D1, interoperating with wrangler's record", async () => {
    expect(INDEX_MIGRATIONS.map((m) => m.sql)).toEqual([m1, m2, m3, m4]);
    expect(await store.migrationVersion()).toBe(0);
    expect(await store.isMigrated()).toBe(false);
    await expect(store.findSessionIds()).rejects.toMatchObject({ code: "index_not_migrated" });
    expect(await store.runMigrations()).toEqual(INDEX_MIGRATIONS.map((m) => m.name));
    expect(await store.migrationVersion()).toBe(INDEX_SCHEMA_VERSION);
    expect(await store.isMigrated()).toBe(true);
    expect(await store.runMigrations()).toEqual([]);
    const ours = await schema();
    // The same schema as wrangler's way (applyD1Migrations over the SQL files).
    await resetIndexDb();
    await migrateIndexDb();
    expect(await schema()).toEqual(ours);
    // Half applied by wrangler's way: the rest from code, nothing twice.
    await resetIndexDb();
    await migrateIndexDb(2);
    expect(await store.migrationVersion()).toBe(2);
    expect(await store.runMigrations()).toEqual(INDEX_MIGRATIONS.slice(2).map((m) => m.name));
    expect(await schema()).toEqual(ours);
  });

  it("concurrent runMigrations apply each migration once", async () => {
    const runs = await Promise.all([store.runMigrations(), store.runMigrations()]);
    expect(runs.flat().sort()).toEqual(INDEX_MIGRATIONS.map((m) => m.name).sort());
    expect(await store.isMigrated()).toBe(true);
  });

  it("findSessionIds filters by agent, user, tag and status, and pages by cursor", async () => {
    await store.runMigrations();
    const a = await indexedRun("ada", "red");
    const b = await indexedRun("bob", "blue");
    const c = await indexedRun("ada", "blue");
    const ids = async (query: Parameters<typeof store.findSessionIds>[0]) =>
      (await store.findSessionIds(query)).sessions.map((x) => x.session);
    expect(await ids({ user: "ada" })).toEqual([c, a]);
    expect(await ids({ tag: "blue" })).toEqual([c, b]);
    expect(await ids({ user: "ada", tag: "blue" })).toEqual([c]);
    expect(await ids({ status: "completed", agent: "indexed" })).toEqual([c, b, a]);
    expect(await ids({ status: "running" })).toEqual([]);
    const first = await store.findSessionIds({ limit: 2 });
    expect(first.sessions).toEqual([
      { agent: "indexed", session: c },
      { agent: "indexed", session: b },
    ]);
    const next = await store.findSessionIds({ limit: 2, cursor: first.nextCursor ?? "" });
    expect(next).toEqual({ sessions: [{ agent: "indexed", session: a }], nextCursor: null });
    await expect(store.findSessionIds({ limit: 0 })).rejects.toMatchObject({ status: 400 });
  });

  it("findSessionIds refuses a bad query as GET /sessions does: 400 invalid_query", async () => {
    await store.runMigrations();
    const find = store.findSessionIds as (query: unknown) => Promise<unknown>;
    for (const bad of [
      { agent: "../x" },
      { status: "" },
      { status: "bogus" },
      // `idle` is a session's status (one listed for its usage before any run): not refused.
      { status: "Running" },
      { user: 7 },
      { tag: "a b" },
      { limit: 1.5 },
      { limit: 201 },
      { cursor: "x".repeat(1001) },
    ])
      await expect(find(bad)).rejects.toMatchObject({ status: 400, code: "invalid_query" });
  });

  it("usageRollup refuses a bad query as GET /usage does: 400 invalid_query", async () => {
    await store.runMigrations();
    await indexedRun("ada", "red");
    expect((await store.usageRollup({ kind: "model" })).rows.length).toBeGreaterThan(0);
    const rollup = store.usageRollup as (query: unknown) => Promise<unknown>;
    for (const bad of [
      { kind: "nope" },
      { from: "yesterday" },
      { to: "2026-13-45" },
      { agent: "../x" },
      { agent: 7 },
      { from: "2026-05-02", to: "2026-05-01" },
    ])
      await expect(rollup(bad)).rejects.toMatchObject({ status: 400, code: "invalid_query" });
  });

  it("deleteOldEntries removes settled sessions and usage older than the cutoff, in bounded passes", async () => {
    await store.runMigrations();
    const a = await indexedRun("old", "x");
    const b = await indexedRun("old", "x");
    const later = Date.now() + 100 * 86_400_000;
    const usageRows = async () =>
      (await env.INDEX_DB.prepare("SELECT count(*) AS n FROM da_usage").first<{ n: number }>())?.n;
    expect(await usageRows()).toBeGreaterThan(0);
    // Nothing is that old yet.
    expect(await store.deleteOldEntries({ days: 90 })).toEqual({
      usage: 0,
      sessions: 0,
      more: false,
    });
    // A session goes once none of its usage is left (each has 2 entries): not in this pass.
    const one = await store.deleteOldEntries({ days: 90, now: later, chunk: 1 });
    expect(one).toEqual({ usage: 1, sessions: 0, more: true });
    for (const bad of [{ from: "2026-02-30" }, { to: "2026-13-01" }, { from: "yesterday" }])
      await expect(store.usageRollup(bad)).rejects.toMatchObject({
        status: 400,
        code: "invalid_query",
      });
    for (const bad of [{ days: 0 }, { days: 1, chunk: 0 }, { days: 1, passes: 0 }])
      await expect(store.deleteOldEntries(bad)).rejects.toMatchObject({
        status: 400,
        code: "invalid_query",
      });
    // No options at all: the same typed 400, not a TypeError.
    const call = store.deleteOldEntries as (options?: unknown) => Promise<unknown>;
    for (const bad of [undefined, null, {}])
      await expect(call(bad)).rejects.toMatchObject({ status: 400, code: "invalid_query" });
    const rest = await store.deleteOldEntries({ days: 90, now: later, chunk: 1, passes: 20 });
    expect(rest.more).toBe(false);
    expect((await store.findSessionIds({ user: "old" })).sessions).toEqual([]);
    expect(await usageRows()).toBe(0);
    // The sessions themselves keep their ledgers.
    expect(await store.session("indexed", a).exists()).toBe(true);
    expect(await store.session("indexed", b).status()).toMatchObject({ status: "completed" });
  });
});
