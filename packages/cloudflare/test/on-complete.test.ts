import { afterEach, describe, expect, it } from "vitest";
import { completions, hookFailures } from "./fixture/platform.ts";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";
import { until } from "./support/until.ts";

/**
 * The onComplete hook is due work committed with run.completed: it runs at
 * least once per completed run, across crashes and throws, with a stable
 * idempotency key. The fixture's hook records its calls in module state,
 * which outlives an aborted object (tests and objects share one isolate).
 */
afterEach(() => {
  probe.reset();
  hookFailures.clear();
});

const callsOf = (s: SessionHandle) => completions.filter((c) => c.session === s.session);

async function start(s: SessionHandle): Promise<string> {
  const response = await s.post("runs", { input: { message: "hi" } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

/** The seq of the session's run.completed (the hook's key and idempotency key carry it). */
async function completedSeq(s: SessionHandle): Promise<number> {
  return (await s.events()).find((e) => e.kind === "run.completed")?.seq ?? -1;
}

describe("onComplete survives crashes and throws", () => {
  it("a crash between the run.completed commit and the hook: the next instance runs it", async () => {
    const s = session("chatty");
    probe.crashSessionAt(s.session, "before-on-complete");
    const runId = await start(s);
    // Reading the session each time: a read opens a fresh instance after the crash.
    await until(
      () => s.events(),
      () => callsOf(s).length > 0,
    );
    // The object was aborted after the commit, before the hook: every call came after the crash.
    expect(probe.executions(`fault:${s.session}`)).toBe(1);
    const calls = callsOf(s);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const call of calls)
      expect(call).toMatchObject({
        runId,
        idempotencyKey: `chatty/${s.session}/${runId}/${await completedSeq(s)}`,
        failed: false,
        status: "completed",
      });
    const kinds = (await s.events()).map((e) => e.kind);
    expect(kinds.filter((k) => k === "run.completed")).toHaveLength(1);
    expect(kinds).not.toContain("trigger.failed");
  });

  it("a throwing hook is retried with backoff, with the same key, until it succeeds", async () => {
    const s = session("chatty");
    hookFailures.set(s.session, 2);
    const runId = await start(s);
    await until(
      () => s.events(),
      () => callsOf(s).some((c) => !c.failed),
    );
    const calls = callsOf(s);
    expect(calls.map((c) => c.failed)).toEqual([true, true, false]);
    expect(new Set(calls.map((c) => `${c.runId} ${c.idempotencyKey}`))).toEqual(
      new Set([`${runId} chatty/${s.session}/${runId}/${await completedSeq(s)}`]),
    );
    expect((await s.events()).map((e) => e.kind)).not.toContain("trigger.failed");
  });

  it("a hook that keeps failing ends as trigger.failed after the pump's retries", async () => {
    const s = session("chatty");
    hookFailures.set(s.session, 1_000);
    const runId = await start(s);
    const failed = await s.waitFor((e) => e.kind === "trigger.failed", 15_000);
    expect(failed.data).toEqual({
      kind: "hook.on_complete",
      key: `hook:on_complete:${runId}:${await completedSeq(s)}`,
      attempts: 5,
      error: { code: "hook_failed", message: "the webhook receiver is down" },
    });
    expect(callsOf(s)).toHaveLength(5);
  });
});
