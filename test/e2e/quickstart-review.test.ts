/**
 * Review findings on the quickstart under `wrangler dev`, from its docs: a schedule that
 * fires while a run is active, and an approval answered with both a denial and a result.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import {
  getJson,
  readLedger,
  startQuickstart,
  startRun,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

let dev: WranglerDev;
let state: string;

beforeAll(async () => {
  state = tempState("e2e-review");
  dev = await startQuickstart(state);
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

const post = (session: string, action: string, body: unknown) =>
  fetch(`${dev.baseUrl}/agents/assistant/${session}/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("quickstart, reviewed from its docs", () => {
  // README: the schedules panel adds `reminder` schedules "that start a run when they
  // fire"; examples/quickstart/src/triggers.ts: "A run already active makes the start fail;
  // the pump retries it with backoff." ctx.startRun answered undefined instead, and the
  // reminder was deleted as done: no run, no trigger.failed, nothing in the ledger.
  it("a reminder that fires while a run waits for an approval is retried, and starts its run once the session is free", async () => {
    const session = `review-reminder-${Date.now()}`;
    await startRun(dev.baseUrl, session, "clear my notes");
    await waitForLedger(dev.baseUrl, session, (events) =>
      events.some((e) => e.kind === "run.waiting"),
    );
    const scheduled = await post(session, "schedules", {
      kind: "reminder",
      key: "while-waiting",
      payload: { message: "What is 6*7?" },
      delayMs: 0,
    });
    expect(scheduled.status).toBe(201);
    // It fired and could not start: it stays scheduled, with its attempt counted.
    const deadline = Date.now() + 30_000;
    let schedules: { key: string; attempts: number }[] = [];
    while (Date.now() < deadline) {
      ({ schedules } = await getJson<{ schedules: { key: string; attempts: number }[] }>(
        `${dev.baseUrl}/agents/assistant/${session}/schedules`,
      ));
      if (schedules.length === 0 || (schedules[0]?.attempts ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(schedules).toMatchObject([{ key: "while-waiting" }]);
    expect(schedules[0]?.attempts).toBeGreaterThan(0);

    const events = await readLedger(dev.baseUrl, session);
    const call = events.find((e) => e.kind === "approval.requested")?.data as { callId: string };
    expect(
      (await post(session, "resume", { approvals: [{ callId: call.callId, approved: false }] }))
        .status,
    ).toBe(202);
    const done = await waitForLedger(
      dev.baseUrl,
      session,
      (all) =>
        all.some((e) => e.kind === "run.completed" && JSON.stringify(e.data).includes("6*7 = 42")),
      60_000,
    );
    const started = done.filter((e) => e.kind === "run.started");
    expect(started.map((e) => (e.data as { input: { message: string } }).input.message)).toEqual([
      "clear my notes",
      "What is 6*7?",
    ]);
  });
});
