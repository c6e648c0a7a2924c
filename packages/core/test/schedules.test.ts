import { describe, expect, it } from "vitest";
import * as z from "zod";
import { cronSchedules } from "../src/cron.ts";
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
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
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
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
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
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
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
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
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

describe("a schedule of a kind the server does not have", () => {
  it("is a 400 naming the kinds it has and how to register one, and writes nothing", async () => {
    const s = createTestSession(agent);
    await expect(s.runtime.schedule("reminder", {}, { delayMs: 0 }, "r")).rejects.toMatchObject({
      code: "unknown_trigger_kind",
      status: 400,
      message: expect.stringContaining(
        'no trigger kind "reminder"; this server has: (none) (define one with defineTrigger and register it with createAgentServer({ triggers }))',
      ),
    });
    expect(s.runtime.schedules.list()).toEqual([]);
  });
});

describe("a server without the cron port (@durable-agents/core/cron)", () => {
  const ran: number[] = [];
  const tick = defineTrigger({
    kind: "tick",
    payload: z.object({}),
    run: () => {
      ran.push(1);
    },
  });

  it("refuses a cron schedule with a 400 that names the option, and writes nothing", async () => {
    const s = createTestSession(agent, { appTriggers: [tick] });
    await expect(
      s.runtime.schedule("tick", {}, { cron: "* * * * *" }, "job"),
    ).rejects.toMatchObject({
      code: "cron_off",
      status: 400,
      message: expect.stringMatching(/cron: cronSchedules/),
    });
    expect(s.runtime.schedules.list()).toEqual([]);
    // One-shot schedules need no cron parser.
    await s.runtime.schedule("tick", {}, { delayMs: 0 }, "once");
    expect(s.runtime.schedules.list()).toEqual([expect.objectContaining({ key: "once" })]);
  });

  it("a stored cron schedule runs once more after a deploy without it, then ends as trigger.failed cron_off", async () => {
    const before = createTestSession(agent, { appTriggers: [tick], cron: cronSchedules });
    await before.runtime.schedule("tick", {}, { cron: "* * * * *" }, "job");
    const after = before.restart({ cron: undefined });
    after.clock.advance(60_000);
    const count = ran.length;
    // A new instance: its first alarm runs what is due.
    await after.runtime.alarm();
    expect(ran.length).toBe(count + 1);
    expect(after.runtime.schedules.list()).toEqual([]);
    const failed = after.runtime.ledger.read(0, 100).filter((e) => e.kind === "trigger.failed");
    expect(failed.map((e) => e.data)).toEqual([
      {
        kind: "tick",
        key: "job",
        attempts: 1,
        error: {
          code: "cron_off",
          message: expect.stringMatching(/^cron "\* \* \* \* \*" not moved on/),
        },
      },
    ]);
  });
});

describe("cancelling a running trigger", () => {
  function blocking(cancellation: "cooperative" | "ignored") {
    const seen: { signal?: AbortSignal; finish?: () => void; ended: boolean } = { ended: false };
    let started: () => void = () => {};
    const startedOnce = new Promise<void>((resolve) => {
      started = resolve;
    });
    const trigger = defineTrigger({
      kind: "long",
      payload: z.object({}),
      cancellation,
      run: async (_, ctx) => {
        seen.signal = ctx.signal;
        await new Promise<void>((resolve, reject) => {
          seen.finish = resolve;
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
          started();
        });
        seen.ended = true;
      },
    });
    return { trigger, seen, startedOnce };
  }

  it("a cooperative kind's run sees its signal aborted, and the cancel is a ledger fact", async () => {
    const { trigger, seen, startedOnce } = blocking("cooperative");
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
    await s.runtime.schedule("long", {}, { cron: "* * * * *" }, "job");
    s.clock.advance(60_000);
    const draining = s.drain();
    await startedOnce;
    expect(seen.signal?.aborted).toBe(false);
    expect(s.runtime.schedules.cancel("job")).toBe(true);
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toMatchObject({ code: "trigger_cancelled" });
    await draining;
    expect(seen.ended).toBe(false);
    expect(s.runtime.schedules.list()).toEqual([]);
    const events = s.runtime.ledger.read(0, 100).map((e) => [e.kind, e.data]);
    expect(events).toEqual([
      [
        "trigger.cancelled",
        {
          kind: "long",
          key: "job",
          running: true,
          cancellation: "cooperative",
          reason: "cancelled by request",
        },
      ],
    ]);
  });

  it("an ignored kind's run finishes; the schedule is gone and the fact says so", async () => {
    const { trigger, seen, startedOnce } = blocking("ignored");
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
    await s.runtime.schedule("long", {}, { cron: "* * * * *" }, "job");
    s.clock.advance(60_000);
    const draining = s.drain();
    await startedOnce;
    expect(s.runtime.schedules.cancel("job")).toBe(true);
    expect(seen.signal?.aborted).toBe(false);
    seen.finish?.();
    await draining;
    expect(seen.ended).toBe(true);
    // The cron's completion does not bring the cancelled schedule back.
    expect(s.runtime.schedules.list()).toEqual([]);
    expect(s.runtime.ledger.read(0, 100).map((e) => e.data)).toEqual([
      expect.objectContaining({ running: true, cancellation: "ignored" }),
    ]);
  });

  it("cancelling a schedule that is not running records running: false", async () => {
    const { trigger } = blocking("cooperative");
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
    await s.runtime.schedule("long", {}, { delayMs: 60_000 }, "job");
    expect(s.runtime.schedules.cancel("job")).toBe(true);
    expect(s.runtime.schedules.cancel("job")).toBe(false);
    expect(s.runtime.ledger.read(0, 100).map((e) => e.data)).toEqual([
      expect.objectContaining({ key: "job", running: false }),
    ]);
  });

  it("two definitions of one kind are refused", () => {
    const { trigger } = blocking("cooperative");
    expect(() => createTestSession(agent, { appTriggers: [trigger, { ...trigger }] })).toThrow(
      /trigger kind "long" is registered twice/,
    );
  });
});

describe("a stored payload its kind's schema no longer accepts", () => {
  it("fails for good at once, with the schema's English issues, and runs nothing", async () => {
    // The schema as deployed when the schedule was created, then as a later deploy reads it.
    let deployed = 1;
    const ran: unknown[] = [];
    const trigger = defineTrigger({
      kind: "report",
      payload: z
        .object({ v: z.number() })
        .refine((p) => deployed === 1 || p.v > 5, { message: "v must be over 5 since v2" }),
      run: (payload) => {
        ran.push(payload);
      },
    });
    const s = createTestSession(agent, { appTriggers: [trigger], cron: cronSchedules });
    await s.runtime.schedule("report", { v: 1 }, { delayMs: 0 }, "job");
    deployed = 2;
    await s.drain();
    expect(ran).toEqual([]);
    const failed = s.runtime.ledger.read(0, 100).filter((e) => e.kind === "trigger.failed");
    expect(failed.map((e) => e.data)).toEqual([
      {
        kind: "report",
        key: "job",
        attempts: 1,
        error: {
          code: "invalid_trigger_payload",
          message: expect.stringContaining("(root): v must be over 5 since v2"),
        },
      },
    ]);
    expect(s.runtime.schedules.list()).toEqual([]);
  });
});
