import { describe, expect, it } from "vitest";
import { silentLogger } from "../logger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { type DueItem, DueWork } from "./due-work.ts";
import { type TriggerHandler, type TriggerOutcome, TriggerPump } from "./pump.ts";

/** Counts claims that took a row and continuations, to see which path the pump took. */
class CountingWork extends DueWork {
  claims = 0;
  continues = 0;
  override claim(now: number, leaseMs: number, running?: ReadonlySet<number>) {
    const item = super.claim(now, leaseMs, running);
    if (item) this.claims++;
    return item;
  }
  override continue(claim: DueItem, now: number, leaseMs: number) {
    this.continues++;
    return super.continue(claim, now, leaseMs);
  }
}

function setup(handler: TriggerHandler, concurrent = true) {
  const clock = new ManualClock(0);
  const work = new CountingWork(new NodeSqlPort());
  const pump = new TriggerPump(work, new Map([["step", handler]]), clock, silentLogger, {
    concurrentKinds: concurrent ? new Set(["step"]) : new Set(),
  });
  return { clock, work, pump };
}

const AGAIN: TriggerOutcome = { type: "again" };
const DONE: TriggerOutcome = { type: "done" };

describe("a concurrent row whose handler goes on at once (pump invariant 7)", () => {
  it("runs again under the same claim, held as a first attempt, until it is done", async () => {
    const seen: { attempt: number; leased: boolean; attempts?: number }[] = [];
    let work: CountingWork | undefined;
    const { pump, ...rest } = setup({
      async run(_payload, ctx) {
        const row = work?.get("step:r1");
        seen.push({
          attempt: ctx.attempt,
          leased: row?.leaseUntil != null,
          attempts: row?.attempts,
        });
        return seen.length < 4 ? AGAIN : DONE;
      },
      giveUp: () => undefined,
    });
    work = rest.work;
    work.schedule("step", "step:r1", {}, 0, 0);
    await pump.run();
    expect(seen).toEqual(Array(4).fill({ attempt: 1, leased: true, attempts: 1 }));
    expect(work.claims).toBe(1);
    expect(work.continues).toBe(3);
    expect(work.get("step:r1")).toBeUndefined();
  });

  it("does not keep one pass (one alarm invocation) going for a whole long run: past budgetMs the pass ends and the row waits for the next one", async () => {
    // On Cloudflare one pump pass is one alarm() invocation, which has a wall-clock limit
    // (15 minutes) and a CPU limit per invocation. Before invariant 7, a run's next action
    // released the row and the pass claimed it again only within budgetMs (docs/limits.md:
    // "the alarm re-arms for the rest"), so a long run went on in fresh invocations. Under the
    // same claim, a run of any length stays in the first invocation.
    const actions: number[] = [];
    const { pump, clock, work } = setup({
      async run() {
        actions.push(clock.now());
        clock.advance(10_000); // each action (a model call and its tools) takes 10 s
        return actions.length < 10 ? AGAIN : DONE;
      },
      giveUp: () => undefined,
    });
    work.schedule("step", "step:r1", {}, 0, 0);
    await pump.run();
    // budgetMs is 25 s: the pass ends once it is spent, with the run's row left for the next.
    expect(actions.length).toBeLessThan(10);
    expect(work.get("step:r1")).toBeDefined();
  });

  it("stops going on when the row was scheduled again meanwhile: the new schedule stands", async () => {
    let runs = 0;
    let work: CountingWork | undefined;
    const { pump, clock, ...rest } = setup({
      async run() {
        runs++;
        // Another writer moves the row while its handler runs (e.g. a resume).
        if (runs === 1) work?.schedule("step", "step:r1", { v: 2 }, 100, 0);
        return runs === 1 ? AGAIN : DONE;
      },
      giveUp: () => undefined,
    });
    work = rest.work;
    work.schedule("step", "step:r1", {}, 0, 0);
    await pump.run();
    expect(runs).toBe(1);
    expect(work.get("step:r1")).toMatchObject({ dueAt: 100, leaseUntil: null, payload: { v: 2 } });
    clock.advance(100);
    await pump.run();
    expect(runs).toBe(2);
    expect(work.get("step:r1")).toBeUndefined();
  });

  it("a continued row that then fails is retried as its first attempt's failure", async () => {
    let runs = 0;
    const { pump, work } = setup({
      async run() {
        runs++;
        if (runs === 2) throw new Error("model down");
        return runs === 1 ? AGAIN : DONE;
      },
      giveUp: () => undefined,
    });
    work.schedule("step", "step:r1", {}, 0, 0);
    await pump.run();
    expect(runs).toBe(2);
    // Released for a retry after the backoff of attempt 1 (1 s), its count kept.
    expect(work.get("step:r1")).toMatchObject({
      attempts: 1,
      dueAt: 1_000,
      leaseUntil: null,
      lastError: "model down",
    });
  });

  it("a row of a kind that runs one at a time is released and claimed again instead", async () => {
    let runs = 0;
    const { pump, work } = setup(
      {
        async run() {
          runs++;
          return runs < 3 ? AGAIN : DONE;
        },
        giveUp: () => undefined,
      },
      false,
    );
    work.schedule("step", "step:r1", {}, 0, 0);
    await pump.run();
    expect(runs).toBe(3);
    expect(work.claims).toBe(3);
    expect(work.continues).toBe(0);
  });
});
