import { describe, expect, it } from "vitest";
import { listCheckpoints, listUsageEntries, usageSummary } from "../src/index.ts";
import { createTestSession } from "../src/testing/test-session.ts";
import { mathAgent } from "./fixtures.ts";

/** The calls, tokens and tool runs a session's usage projections say it spent. */
function spent(s: ReturnType<typeof createTestSession>) {
  const summary = usageSummary(s.sql);
  return {
    calls: summary.models.reduce((n, m) => n + m.calls, 0),
    tools: summary.tools.reduce((n, t) => n + t.calls, 0),
    entries: listUsageEntries(s.sql, {}).entries.length,
  };
}

describe("a fork's usage is what it spent itself (forkusage, attacked)", () => {
  it("a fork of a fork, at its first checkpoint and at its last, counts none of the copied spend, on append and after a rebuild", async () => {
    const source = createTestSession(mathAgent);
    await source.runtime.start({ message: "add" });
    await source.drain();
    expect(spent(source)).toMatchObject({ calls: 2, tools: 1 });

    // The first fork: at the source's very first checkpoint, then resumed to the end.
    const first = listCheckpoints(source.sql, 0, 50)[0]!;
    const f1 = createTestSession(mathAgent, { sessionId: "f1" });
    f1.runtime.importFork(source.runtime.forkPrefix(first.id), "test fork");
    expect(f1.runtime.ledger.copiedThrough).toBe(first.seq);
    expect(spent(f1)).toEqual({ calls: 0, tools: 0, entries: 0 });
    await f1.runtime.resume({ mode: "continue" });
    await f1.drain();
    const own = spent(f1);
    expect(own).toMatchObject({ calls: 2, tools: 1 });

    // A fork of that fork at its last checkpoint: everything it holds was spent elsewhere.
    const last = listCheckpoints(f1.sql, 0, 50).at(-1)!;
    const f2 = createTestSession(mathAgent, { sessionId: "f2" });
    f2.runtime.importFork(f1.runtime.forkPrefix(last.id), "test fork");
    expect(f2.runtime.ledger.copiedThrough).toBe(last.seq);
    expect(spent(f2)).toEqual({ calls: 0, tools: 0, entries: 0 });

    // Reopened (a restart rebuilds nothing) and rebuilt: the same.
    for (const s of [f1.restart(), f2.restart()])
      s.runtime.ledger.rebuild(["usage", "usage_entries"]);
    expect(spent(f1.restart())).toEqual(own);
    expect(spent(f2.restart())).toEqual({ calls: 0, tools: 0, entries: 0 });
  });
});
