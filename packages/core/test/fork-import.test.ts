import { describe, expect, it } from "vitest";
import type { Projection } from "../src/index.ts";
import { listCheckpoints } from "../src/index.ts";
import { createTestSession } from "../src/testing/test-session.ts";
import { mathAgent } from "./fixtures.ts";

/** A projection whose write fails for the fork's own `run.interrupted` (storage refusing a row). */
function refusing(state: { refuse: boolean }): Projection {
  return {
    name: "refuses_interrupt",
    version: 1,
    create: [],
    drop: [],
    apply(_sql, event, copied) {
      if (state.refuse && !copied && event.kind === "run.interrupted")
        throw new Error("storage refused the row");
    },
  };
}

describe("importFork: the copied prefix and the fork's run.interrupted are one append", () => {
  it("when run.interrupted cannot be written, nothing is: the fork is not left running, and the same fork can be made again", async () => {
    const source = createTestSession(mathAgent);
    await source.runtime.start({ message: "add" });
    await source.drain();
    // At the first checkpoint (run.started) the run was active: the fork gets run.interrupted.
    const first = listCheckpoints(source.sql, 0, 50)[0]!;
    const prefix = source.runtime.forkPrefix(first.id);

    const state = { refuse: true };
    const fork = createTestSession(mathAgent, { sessionId: "f1", projections: [refusing(state)] });
    expect(() => fork.runtime.importFork(prefix, "test fork")).toThrow("storage refused the row");
    expect(fork.runtime.ledger.tail).toBe(0);
    expect(fork.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events")[0]?.n).toBe(0);
    expect(fork.restart().runtime.ledger.tail).toBe(0);
    expect(fork.runtime.status().status).not.toBe("running");

    state.refuse = false;
    fork.runtime.importFork(prefix, "test fork");
    expect(fork.runtime.ledger.read(0).map((e) => e.kind)).toEqual([
      ...prefix.map((e) => e.kind),
      "run.interrupted",
    ]);
    expect(fork.runtime.status().status).toBe("interrupted");
  });

  it("a listener hears the fork as one batch: the prefix and run.interrupted together", async () => {
    const source = createTestSession(mathAgent);
    await source.runtime.start({ message: "add" });
    await source.drain();
    const first = listCheckpoints(source.sql, 0, 50)[0]!;
    const fork = createTestSession(mathAgent, { sessionId: "f2" });
    const batches: string[][] = [];
    fork.runtime.ledger.onAppend((events) => batches.push(events.map((e) => e.kind)));
    fork.runtime.importFork(source.runtime.forkPrefix(first.id), "test fork");
    expect(batches).toEqual([["run.started", "run.interrupted"]]);
  });
});
