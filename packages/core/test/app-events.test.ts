import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  defineAgent,
  defineEvent,
  defineProjection,
  dispatchCommand,
  type RunCompletedInfo,
  scriptedModel,
  TRUSTED_CALLER,
} from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";

const agent = defineAgent({
  name: "a",
  system: "",
  tools: [],
  model: scriptedModel({ turns: [{ text: "done" }] }),
});

const pinged = defineEvent("pinged", z.object({ n: z.number() }));

const pings = (version: number) =>
  defineProjection({
    name: "pings",
    version,
    events: [pinged],
    reduce(store, event) {
      store.put("sum", (store.get<number>("sum") ?? 0) + event.payload.n * version);
    },
  });

/** Fires alarms, moving the manual clock to each wake-up, until none is left. */
async function settle(s: TestSession): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await s.drain();
    const at = s.wakeAt();
    if (at === null) return;
    s.clock.advance(Math.max(0, at - s.clock.now()));
  }
}

const appKinds = (s: TestSession) =>
  s.runtime.ledger
    .read(0)
    .filter((e) => e.kind.startsWith("app."))
    .map((e) => e.kind);

describe("app events from hooks and projections across versions", () => {
  it("onComplete's emit commits with its delivery: a delivery that threw leaves nothing", async () => {
    let calls = 0;
    const hook = (info: RunCompletedInfo) => {
      info.emit(pinged, { n: 1 });
      if (++calls === 1) throw new Error("receiver down");
    };
    const s = createTestSession(agent, { onComplete: hook, appProjections: [pings(1)] });
    await s.runtime.start({ message: "go" });
    await settle(s);
    expect(calls).toBe(2);
    expect(appKinds(s)).toEqual(["app.pinged"]);
    expect(s.runtime.projections.reader("pings").get("sum")).toBe(1);
  });

  it("a new version is needs_rebuild across a restart, refuses reads, and a rebuild replays the ledger", async () => {
    const s = createTestSession(agent, { appProjections: [pings(1)] });
    s.runtime.appContext().emit(pinged, { n: 2 });
    s.runtime.appContext().emit(pinged, { n: 3 });
    expect(s.runtime.projections.reader("pings").get("sum")).toBe(5);

    const next = s.restart({ appProjections: [pings(2)] });
    expect(next.runtime.projections.status()).toEqual([
      { name: "pings", version: 2, storedVersion: 1, status: "needs_rebuild" },
    ]);
    expect(() => next.runtime.projections.reader("pings").get("sum")).toThrow(
      expect.objectContaining({ code: "projection_needs_rebuild" }),
    );
    // Appends go on while it is stale; the rebuild sees them in the ledger.
    next.runtime.appContext().emit(pinged, { n: 4 });
    expect(next.runtime.projections.rebuild("pings").status).toBe("current");
    expect(next.runtime.projections.reader("pings").get("sum")).toBe((2 + 3 + 4) * 2);
    // Opening again at the same version changes nothing.
    expect(
      next.restart({ appProjections: [pings(2)] }).runtime.projections.status()[0]?.status,
    ).toBe("current");
  });

  it("a projection that skipped an event while stale stays needs_rebuild after its version goes back", () => {
    const s = createTestSession(agent, { appProjections: [pings(2)] });
    s.runtime.appContext().emit(pinged, { n: 1 });
    const stale = s.restart({ appProjections: [pings(3)] });
    stale.runtime.appContext().emit(pinged, { n: 5 }); // stored, not reduced
    // A deploy rollback: the code is version 2 again, but the rows miss the event above.
    const back = stale.restart({ appProjections: [pings(2)] });
    expect(back.runtime.projections.status()).toEqual([
      { name: "pings", version: 2, storedVersion: 2, status: "needs_rebuild" },
    ]);
    expect(() => back.runtime.projections.reader("pings").get("sum")).toThrow(
      expect.objectContaining({ code: "projection_needs_rebuild" }),
    );
    expect(back.runtime.projections.rebuild("pings").status).toBe("current");
    expect(back.runtime.projections.reader("pings").get("sum")).toBe((1 + 5) * 2);
    expect(
      back.restart({ appProjections: [pings(2)] }).runtime.projections.status()[0]?.status,
    ).toBe("current");
  });

  it("a version that goes back with no event skipped in between is current", () => {
    const s = createTestSession(agent, { appProjections: [pings(2)] });
    s.runtime.appContext().emit(pinged, { n: 1 });
    const stale = s.restart({ appProjections: [pings(3)] });
    expect(stale.runtime.projections.status()[0]?.status).toBe("needs_rebuild");
    const back = stale.restart({ appProjections: [pings(2)] });
    expect(back.runtime.projections.status()[0]?.status).toBe("current");
    expect(back.runtime.projections.reader("pings").get("sum")).toBe(2);
  });

  it("a reducer that throws during a rebuild says the rebuild stopped, not that an event was not stored", () => {
    const s = createTestSession(agent, { appProjections: [pings(1)] });
    s.runtime.appContext().emit(pinged, { n: 1 });
    s.runtime.appContext().emit(pinged, { n: -1 });
    const picky = defineProjection({
      name: "pings",
      version: 2,
      events: [pinged],
      reduce(store, event) {
        if (event.payload.n < 0) throw new Error("negative ping");
        store.put("sum", event.payload.n);
      },
    });
    const next = s.restart({ appProjections: [picky] });
    let thrown: unknown;
    try {
      next.runtime.projections.rebuild("pings");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "projection_failed", status: 500 });
    const message = (thrown as Error).message;
    expect(message).toContain('rebuild of projection "pings" stopped at seq 2');
    expect(message).toContain("negative ping");
    expect(message).toContain("stays needs_rebuild");
    expect(message).not.toContain("not stored");
    expect(next.runtime.projections.status()[0]?.status).toBe("needs_rebuild");
    expect(next.runtime.ledger.tail).toBe(2);
  });

  it("a command hook's emit is appended at once, before the command's own events", async () => {
    const s = createTestSession(agent, { appProjections: [pings(1)] });
    await dispatchCommand(
      "start",
      { input: { message: "go" } },
      {
        runtime: s.runtime,
        sql: s.sql,
        caller: TRUSTED_CALLER,
        transport: "http",
        clock: s.clock,
        hooks: {
          beforeStart: (ctx) => {
            ctx.emit(pinged, { n: (ctx.projection("pings").get<number>("sum") ?? 0) + 1 });
          },
        },
      },
    );
    expect(s.runtime.ledger.read(0, 2).map((e) => [e.kind, e.data])).toEqual([
      ["app.pinged", { n: 1 }],
      ["run.started", expect.anything()],
    ]);
  });
});
