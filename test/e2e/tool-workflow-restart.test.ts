/**
 * Tools on Cloudflare Workflows whose instances are in flight when wrangler dev goes down
 * (SIGKILL of the process group, as a crash; a reload after a source edit restarts the process
 * the same way). wrangler dev's local Workflows resume such an instance only when an event
 * arrives, and report it `running` meanwhile: docs/api.md, "Tools on Cloudflare Workflows",
 * has the session's check wake an instance that has not finished, as a Workflow run's progress
 * check does. Without it the call waited for ever, and so did its run. The woken instance runs
 * no completed step again (its admit ran once) and its result is recorded once.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { getJson, type LedgerEvent, tempState } from "./e2e-support.ts";

const FIXTURE = resolve(import.meta.dirname, "../tool-workflow-restart-worker");
const state = tempState("e2e-tool-workflow-restart");
let dev: WranglerDev | undefined;

const ledger = (base: string, session: string) =>
  getJson<LedgerEvent[]>(`${base}/agents/editor/${session}/events?offset=-1`);

const start = () =>
  startWranglerDev({
    cwd: FIXTURE,
    persistTo: state,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });

const sleep = (ms: number) => new Promise((settle) => setTimeout(settle, ms));

/** The idempotency key of the session's tool call, once its instance was created. */
async function callKey(base: string, session: string): Promise<string> {
  for (;;) {
    const events = await ledger(base, session);
    const started = events.find((e) => e.kind === "tool.started");
    if (events.some((e) => e.kind === "workflow.started") && started)
      return started.data.idempotencyKey as string;
    await sleep(100);
  }
}

/** The lines the fixture's tools wrote for the call `key` (`<what> <key>`). */
const marks = (logs: string, what: string, key: string) =>
  logs.split("\n").filter((line) => line.includes(`tool-workflow-restart ${what} ${key}`)).length;

afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe("tools on Workflows across a restart of wrangler dev", () => {
  it("a call in its execute step and one in its retry backoff both end, each recorded once", async () => {
    dev = await start();
    const post = (session: string, message: string) =>
      fetch(`${dev?.baseUrl}/agents/editor/${session}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { message } }),
      });
    // transcode sleeps 8 s in its execute step; flaky fails, then waits 4 s before its retry.
    expect((await post("restart-slow", "8000")).status).toBe(202);
    expect((await post("restart-flaky", "flaky")).status).toBe(202);
    const slow = await callKey(dev.baseUrl, "restart-slow");
    const flaky = await callKey(dev.baseUrl, "restart-flaky");
    while (marks(dev.logs(), "execute", slow) === 0 || marks(dev.logs(), "flaky", flaky) === 0)
      await sleep(100);
    await dev.kill();
    const before = dev.logs();
    dev = await start();

    // Well past the tool's 8 s, the retry's 4 s and many checks: both runs end.
    const deadline = Date.now() + 60_000;
    const ends = async () =>
      Promise.all(["restart-slow", "restart-flaky"].map((s) => ledger(dev?.baseUrl ?? "", s)));
    let [slowEvents, flakyEvents] = await ends();
    while (
      Date.now() < deadline &&
      ![slowEvents, flakyEvents].every((events) => events?.at(-1)?.kind === "run.completed")
    ) {
      await sleep(1_000);
      [slowEvents, flakyEvents] = await ends();
    }
    const results = (events: LedgerEvent[] | undefined) =>
      (events ?? []).filter((e) => e.kind === "tool.completed" || e.kind === "tool.failed");

    expect(results(slowEvents)).toEqual([
      expect.objectContaining({
        kind: "tool.completed",
        data: expect.objectContaining({ result: { job: slow } }),
      }),
    ]);
    expect(slowEvents?.at(-1)?.kind).toBe("run.completed");
    expect(results(flakyEvents)).toEqual([
      expect.objectContaining({
        kind: "tool.failed",
        data: expect.objectContaining({ error: expect.objectContaining({ code: "tool_error" }) }),
      }),
    ]);
    expect(flakyEvents?.at(-1)?.kind).toBe("run.completed");
    // The admit step completed before the kill: the woken instance took it from its cache.
    // The execute step was cut by the kill, so it ran again, and finished once.
    const logs = before + dev.logs();
    expect(marks(logs, "admit", slow)).toBe(1);
    expect(marks(logs, "execute", slow)).toBe(2);
    expect(marks(logs, "executed", slow)).toBe(1);
  });
});
