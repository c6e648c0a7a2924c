import { describe, expect, it } from "vitest";
import { dispatchCommand } from "../src/commands/dispatch.ts";
import { latestRun, listUsageEntries, usageFactOf, usageSummary } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { mathAgent, trustedCall } from "./fixtures.ts";

describe("usage entries and resume counts: projections an existing session gains by replay", () => {
  it("a session opened after the upgrade rebuilds usage_entries and the runs' resume counts from its ledger", async () => {
    const t = createTestSession(mathAgent);
    const call = trustedCall(t, "test");
    await dispatchCommand("start", { input: { message: "add" } }, call);
    await dispatchCommand("interrupt", {}, call);
    await t.drain();
    await dispatchCommand("resume", {}, call);
    await t.drain();
    await dispatchCommand("usage.record", { metric: "emails", value: 2 }, call);
    const live = listUsageEntries(t.sql, {});
    const events = t.runtime.ledger.read(0, 1000);
    // One entry per usage fact, at its seq: the one mapping (usageFactOf) the D1 index uses too.
    expect(live.entries.map((e) => e.seq)).toEqual(
      events.filter((e) => usageFactOf(e)).map((e) => e.seq),
    );
    expect(live.entries.map((e) => [e.kind, e.step])).toContainEqual(["metric", null]);
    expect(latestRun(t.sql)?.resumeCount).toBe(1);

    // As a session written before these projections existed: no rows, no recorded versions.
    t.sql.exec("DROP TABLE usage_entries");
    t.sql.exec("UPDATE runs SET resume_count = 0");
    t.sql.exec("DELETE FROM projection_versions WHERE name IN ('usage_entries', 'runs')");
    const reopened = t.restart();
    expect(listUsageEntries(reopened.sql, {})).toEqual(live);
    expect(latestRun(reopened.sql)?.resumeCount).toBe(1);
  });
});

describe("the usage projection after its columns grew", () => {
  it("a session whose usage_models table predates the cached and reasoning token columns is rebuilt from the ledger when it opens", async () => {
    const t = createTestSession(mathAgent);
    const call = trustedCall(t, "test");
    await dispatchCommand("start", { input: { message: "add" } }, call);
    await t.drain();
    const before = usageSummary(t.sql);
    // As written by the version that had no cached/reasoning columns (same version number 3).
    t.sql.exec("DROP TABLE usage_models");
    t.sql.exec(
      "CREATE TABLE usage_models (model TEXT PRIMARY KEY, calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL)",
    );
    t.sql.exec("UPDATE projection_versions SET version = 3 WHERE name = 'usage'");
    const reopened = t.restart();
    expect(usageSummary(reopened.sql)).toEqual(before);
    expect(before.models[0]?.calls).toBeGreaterThan(0);
  });
});
