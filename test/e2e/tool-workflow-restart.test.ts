/**
 * Tools on Cloudflare Workflows whose instances are in flight when wrangler dev goes down
 * (SIGKILL of the process group, as a crash; a reload after a source edit restarts the process
 * the same way). wrangler dev's local Workflows resume such an instance only when an event
 * arrives, and report it `running` meanwhile: docs/api.md, "Tools on Cloudflare Workflows",
 * has the session's check wake an instance that has not finished, as a Workflow run's progress
 * check does. Without it the call waited for ever, and so did its run. The woken instance runs
 * no completed step again (its admit ran once) and its result is recorded once.
 *
 * With the default check interval (15 minutes) the check would come that late after a restart:
 * a new session object makes every Workflow check it holds due at once, so the first request
 * that reaches it (a reconnecting client, a status read) gets the call going.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { getJson, type LedgerEvent, tempState } from "./e2e-support.ts";

const FIXTURE = resolve(import.meta.dirname, "../tool-workflow-restart-worker");
const states: string[] = [];
let dev: WranglerDev | undefined;

const ledger = (base: string, session: string) =>
  getJson<LedgerEvent[]>(`${base}/agents/editor/${session}/events?offset=-1`);

/** wrangler dev on `state`; `checkMs` is the fixture's toolWorkflowCheckMs (none: the default). */
const start = (state: string, checkMs?: number) =>
  startWranglerDev({
    cwd: FIXTURE,
    persistTo: state,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    vars: checkMs === undefined ? {} : { CHECK_MS: String(checkMs) },
  });

const newState = () => {
  states.push(tempState("e2e-tool-workflow-restart"));
  return states.at(-1) as string;
};

const post = (base: string, session: string, message: string) =>
  fetch(`${base}/agents/editor/${session}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { message } }),
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

/** The session's tool results, once its run completed or `ms` passed. */
async function results(base: string, session: string, ms: number): Promise<LedgerEvent[]> {
  const deadline = Date.now() + ms;
  let events = await ledger(base, session);
  while (Date.now() < deadline && events.at(-1)?.kind !== "run.completed") {
    await sleep(1_000);
    events = await ledger(base, session);
  }
  return events;
}

const toolResults = (events: LedgerEvent[] | undefined) =>
  (events ?? []).filter((e) => e.kind === "tool.completed" || e.kind === "tool.failed");

afterAll(async () => {
  await dev?.stop();
  for (const state of states) rmSync(state, { recursive: true, force: true });
});

describe("tools on Workflows across a restart of wrangler dev", () => {
  it("a call in its execute step and one in its retry backoff both end, each recorded once", async () => {
    const state = newState();
    dev = await start(state, 1_000);
    // transcode sleeps 8 s in its execute step; flaky fails, then waits 4 s before its retry.
    expect((await post(dev.baseUrl, "restart-slow", "8000")).status).toBe(202);
    expect((await post(dev.baseUrl, "restart-flaky", "flaky")).status).toBe(202);
    const slow = await callKey(dev.baseUrl, "restart-slow");
    const flaky = await callKey(dev.baseUrl, "restart-flaky");
    while (marks(dev.logs(), "execute", slow) === 0 || marks(dev.logs(), "flaky", flaky) === 0)
      await sleep(100);
    await dev.kill();
    const before = dev.logs();
    dev = await start(state, 1_000);

    // Well past the tool's 8 s, the retry's 4 s and many checks: both runs end.
    const [slowEvents, flakyEvents] = await Promise.all(
      ["restart-slow", "restart-flaky"].map((s) => results(dev?.baseUrl ?? "", s, 60_000)),
    );
    expect(toolResults(slowEvents)).toEqual([
      expect.objectContaining({
        kind: "tool.completed",
        data: expect.objectContaining({ result: { job: slow } }),
      }),
    ]);
    expect(slowEvents?.at(-1)?.kind).toBe("run.completed");
    expect(toolResults(flakyEvents)).toEqual([
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

  it("with the default check interval, the first request after the restart gets the call going", async () => {
    await dev?.stop();
    const state = newState();
    dev = await start(state);
    expect((await post(dev.baseUrl, "restart-default", "3000")).status).toBe(202);
    const key = await callKey(dev.baseUrl, "restart-default");
    while (marks(dev.logs(), "execute", key) === 0) await sleep(100);
    await dev.kill();
    const before = dev.logs();
    dev = await start(state);

    // What a reconnecting client does first; the next check is 15 minutes away.
    await getJson(`${dev.baseUrl}/agents/editor/restart-default/status`);
    const events = await results(dev.baseUrl, "restart-default", 60_000);

    expect(toolResults(events)).toEqual([
      expect.objectContaining({
        kind: "tool.completed",
        data: expect.objectContaining({ result: { job: key } }),
      }),
    ]);
    expect(events.at(-1)?.kind).toBe("run.completed");
    const logs = before + dev.logs();
    expect(marks(logs, "admit", key)).toBe(1);
    expect(marks(logs, "executed", key)).toBe(1);
  }, 180_000);
});
