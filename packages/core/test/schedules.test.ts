import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTrigger, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

const agent = defineAgent({
  name: "a",
  system: "",
  model: scriptedModel({ turns: [{ text: "done" }] }),
});

/** A trigger kind whose runs wait until the test lets them finish. */
function gatedTrigger() {
  const runs: { v: number; finish: () => void }[] = [];
  let started: () => void = () => {};
  const trigger = defineTrigger({
    kind: "slow",
    payload: z.object({ v: z.number().default(1) }),
    run: ({ v }) =>
      new Promise<void>((resolve) => {
        runs.push({ v, finish: resolve });
        started();
      }),
  });
  const nextStart = () =>
    new Promise<void>((resolve) => {
      started = resolve;
    });
  return { trigger, runs, nextStart };
}

describe("rescheduling a key while its trigger runs", () => {
  it("a one-shot's completion does not delete the schedule posted during its run", async () => {
    const { trigger, runs, nextStart } = gatedTrigger();
    const s = createTestSession(agent, { appTriggers: [trigger] });
    const firstStarted = nextStart();
    await s.runtime.schedule("slow", {}, { delayMs: 0 }, "job");
    const draining = s.drain();
    await firstStarted;
    s.clock.advance(500);
    const moved = await s.runtime.schedule("slow", { v: 2 }, { delayMs: 3_600_000 }, "job");
    expect(moved).toMatchObject({ key: "job", payload: { v: 2 } });
    runs[0]?.finish();
    await draining;
    expect(s.runtime.schedules.list()).toEqual([
      expect.objectContaining({
        key: "job",
        payload: { v: 2 },
        cron: null,
        dueAt: s.clock.now() + 3_600_000,
        attempts: 0,
      }),
    ]);
    // The new schedule runs at its own time, with its own payload.
    s.clock.advance(3_600_000);
    const secondStarted = nextStart();
    const second = s.drain();
    await secondStarted;
    expect(runs.map((r) => r.v)).toEqual([1, 2]);
    runs[1]?.finish();
    await second;
    expect(s.runtime.schedules.list()).toEqual([]);
  });

  it("a cron's completion does not move the new cron to the old cron's next time", async () => {
    const { trigger, runs, nextStart } = gatedTrigger();
    const s = createTestSession(agent, { appTriggers: [trigger] });
    // Every minute: due after one minute.
    await s.runtime.schedule("slow", {}, { cron: "* * * * *" }, "job");
    s.clock.advance(60_000);
    const firstStarted = nextStart();
    const draining = s.drain();
    await firstStarted;
    const moved = await s.runtime.schedule("slow", { v: 2 }, { cron: "0 9 * * *" }, "job");
    runs[0]?.finish();
    await draining;
    const [only] = s.runtime.schedules.list();
    expect(only).toMatchObject({ key: "job", cron: "0 9 * * *", payload: { v: 2 } });
    expect(only?.dueAt).toBe(moved.dueAt);
    expect(new Date(only?.dueAt ?? 0).getUTCHours()).toBe(9);
  });

  it("a retry of the old run does not overwrite the new schedule either", async () => {
    let fail: (error: Error) => void = () => {};
    let started: () => void = () => {};
    const trigger = defineTrigger({
      kind: "flaky",
      payload: z.object({ v: z.number().default(1) }),
      run: () =>
        new Promise<void>((_, reject) => {
          fail = reject;
          started();
        }),
    });
    const s = createTestSession(agent, { appTriggers: [trigger] });
    const firstStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    await s.runtime.schedule("flaky", {}, { delayMs: 0 }, "job");
    const draining = s.drain();
    await firstStarted;
    const moved = await s.runtime.schedule("flaky", { v: 2 }, { delayMs: 3_600_000 }, "job");
    fail(new Error("downstream down"));
    await draining;
    expect(s.runtime.schedules.list()).toEqual([
      expect.objectContaining({ key: "job", payload: { v: 2 }, dueAt: moved.dueAt, attempts: 0 }),
    ]);
  });
});

describe("cron schedules in a time zone", () => {
  it("a 9:00 Berlin weekday schedule stays at 9:00 local across the DST change", async () => {
    const seen: number[] = [];
    const trigger = defineTrigger({
      kind: "digest",
      payload: z.object({}),
      run: () => {
        seen.push(s.clock.now());
      },
    });
    // Friday 2027-03-26 12:00Z; Berlin moves from UTC+1 to UTC+2 on Sunday the 28th.
    const s = createTestSession(agent, { appTriggers: [trigger] });
    s.clock.advance(Date.parse("2027-03-26T12:00:00Z") - s.clock.now());
    const view = await s.runtime.schedule(
      "digest",
      {},
      { cron: "0 9 * * MON-FRI", timeZone: "Europe/Berlin" },
      "digest",
    );
    expect(view).toMatchObject({ cron: "0 9 * * MON-FRI", timeZone: "Europe/Berlin" });
    expect(new Date(view.dueAt).toISOString()).toBe("2027-03-29T07:00:00.000Z");
    s.clock.advance(view.dueAt - s.clock.now());
    await s.drain();
    const [next] = s.runtime.schedules.list();
    expect(seen.map((t) => new Date(t).toISOString())).toEqual(["2027-03-29T07:00:00.000Z"]);
    expect(new Date(next?.dueAt ?? 0).toISOString()).toBe("2027-03-30T07:00:00.000Z");
  });
});
