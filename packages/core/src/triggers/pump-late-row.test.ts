/**
 * A row written while a pass waits on a concurrent row (a run's step whose tool ignores its
 * abort signal, a long model stream) runs at the next `run` call (an alarm): that call makes
 * the waiting pass look again, rather than handing back a wait that knew nothing of the row
 * (pump.ts: "a slow or hung model call never delays a session's schedules, hooks or outbox").
 */
import { expect, it } from "vitest";
import { silentLogger } from "../logger.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { DueWork } from "./due-work.ts";
import { type TriggerHandler, TriggerPump } from "./pump.ts";

const tick = () => new Promise((r) => setTimeout(r, 20));

it("a row due now, written while a concurrent row hangs, runs at the next alarm", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  const ran: string[] = [];
  const step: TriggerHandler = {
    async run() {
      await held;
      return { type: "done" };
    },
    giveUp: () => undefined,
  };
  const note: TriggerHandler = {
    async run(payload) {
      ran.push(String((payload as { n: string }).n));
      return { type: "done" };
    },
    giveUp: () => undefined,
  };
  const clock = new ManualClock(0);
  const work = new DueWork(new NodeSqlPort());
  const pump = new TriggerPump(
    work,
    new Map([
      ["step", step],
      ["note", note],
    ]),
    clock,
    silentLogger,
    {
      concurrentKinds: new Set(["step"]),
    },
  );
  work.schedule("step", "step:r1", {}, 0, 0);
  const first = pump.run();
  await tick();
  // Written later (a new run's step, a schedule, an outbox message), due now; the alarm fires.
  clock.advance(1_000);
  work.schedule("note", "note:1", { n: "late" }, clock.now(), 0);
  void pump.run();
  await tick();
  const seen = [...ran];
  release();
  await first;
  expect(seen).toEqual(["late"]);
});
