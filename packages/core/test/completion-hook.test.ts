import { describe, expect, it } from "vitest";
import { completionHookKey } from "../src/agent/completion-hook.ts";
import {
  defineAgent,
  type Logger,
  type RunCompletedInfo,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import { createTestSession, ManualClock } from "../src/testing/index.ts";

const agent = defineAgent({
  name: "a",
  system: "",
  model: scriptedModel({ turns: [{ text: "done" }] }),
});

/** A hook that records each call and throws the first `failures` times. */
function recorder(failures = 0, error: () => Error = () => new Error("receiver down")) {
  const calls: Pick<
    RunCompletedInfo,
    "agent" | "session" | "runId" | "status" | "step" | "seq" | "output" | "idempotencyKey"
  >[] = [];
  const hook = (info: RunCompletedInfo) => {
    const { agent, session, runId, status, step, seq, output, idempotencyKey } = info;
    calls.push({ agent, session, runId, status, step, seq, output, idempotencyKey });
    if (calls.length <= failures) throw error();
  };
  return { calls, hook };
}

/** The seq of the session's (one) run end. */
function runEndSeq(s: ReturnType<typeof createTestSession>): number {
  return s.runtime.ledger.read(0).find((e) => e.kind === "run.completed")?.seq ?? -1;
}

function capturingLogger() {
  const errors: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message) => void errors.push(message),
  };
  return { errors, logger };
}

/** Drains, moving time past each backoff, until nothing is left to do. */
async function settle(s: ReturnType<typeof createTestSession>): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await s.drain();
    const at = s.wakeAt();
    if (at === null) return;
    s.clock.advance(Math.max(0, at - s.clock.now()));
  }
}

describe("onComplete as due work", () => {
  it("runs once per completed run with a stable idempotency key, and the row is gone", async () => {
    const { calls, hook } = recorder();
    const s = createTestSession(agent, { onComplete: hook });
    const { runId } = await s.runtime.start({ message: "go" });
    await s.drain();
    const seq = s.runtime.ledger.tail;
    expect(calls).toEqual([
      {
        agent: "a",
        session: "s1",
        runId,
        status: "completed",
        step: 1,
        seq,
        output: "done",
        idempotencyKey: `a/s1/${runId}/${seq}`,
      },
    ]);
    expect(s.runtime.work.list()).toEqual([]);
    expect(s.wakeAt()).toBeNull();
  });

  it("its row commits with run.completed, and only when a hook is configured", async () => {
    for (const onComplete of [recorder().hook, undefined]) {
      const s = createTestSession(agent, { onComplete });
      const seen: boolean[] = [];
      s.runtime.ledger.onAppend((events) => {
        for (const e of events)
          if (e.kind === "run.completed")
            seen.push(s.runtime.work.get(completionHookKey(e.runId ?? "", e.seq)) !== undefined);
      });
      await s.runtime.start({ message: "go" });
      await s.drain();
      expect(seen).toEqual([onComplete !== undefined]);
    }
  });

  it("a crash between the commit and the hook: the next instance runs it", async () => {
    const { calls, hook } = recorder();
    // The object dies just before the hook runs: it never comes back.
    const s = createTestSession(agent, {
      onComplete: hook,
      faults: (point) => (point === "before-on-complete" ? new Promise<void>(() => {}) : undefined),
    });
    const { runId } = await s.runtime.start({ message: "go" });
    void s.runtime.alarm();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
    expect(calls).toEqual([]);

    const fresh = s.restart({ clock: new ManualClock(s.clock.now()), faults: undefined });
    expect(fresh.runtime.work.list()).toHaveLength(1);
    await fresh.runtime.alarm();
    expect(calls).toHaveLength(0); // the dead instance's lease still holds the row
    fresh.clock.advance(60_000);
    await fresh.runtime.alarm();
    expect(calls.map((c) => c.runId)).toEqual([runId]);

    // A single-instance owner (a Durable Object) redrives at once on restart.
    const again = createTestSession(agent, {
      onComplete: hook,
      faults: (point) => (point === "before-on-complete" ? new Promise<void>(() => {}) : undefined),
    });
    await again.runtime.start({ message: "go" });
    void again.runtime.alarm();
    await new Promise((r) => setTimeout(r, 20));
    const restarted = again.restart({
      clock: new ManualClock(again.clock.now()),
      faults: undefined,
      singleInstance: true,
    });
    await new Promise((r) => setTimeout(r, 20));
    await restarted.drain();
    expect(calls).toHaveLength(2);
    expect(restarted.runtime.work.list()).toEqual([]);
  });

  it("a throwing hook is retried with backoff, with the same key, until it succeeds", async () => {
    const { calls, hook } = recorder(2);
    const s = createTestSession(agent, { onComplete: hook });
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(calls).toHaveLength(1);
    expect(s.runtime.work.list()[0]).toMatchObject({ attempts: 1, lastError: "receiver down" });
    await settle(s);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(s.runtime.ledger.read(0).map((e) => e.kind)).not.toContain("trigger.failed");
    expect(s.runtime.work.list()).toEqual([]);
  });

  it("a hook that never settles times out, its signal aborts, and the retry delivers", async () => {
    const signals: AbortSignal[] = [];
    const hook = (info: RunCompletedInfo) => {
      signals.push(info.signal);
      // The first delivery hangs forever; the second returns.
      return signals.length === 1 ? new Promise<void>(() => {}) : undefined;
    };
    const s = createTestSession(agent, { onComplete: hook, onCompleteTimeoutMs: 1_000 });
    await s.runtime.start({ message: "go" });
    const first = s.drain();
    // Let the run finish and the hook start, then move past the timeout.
    for (let i = 0; i < 50 && signals.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    s.clock.advance(1_000);
    await first;
    expect(signals[0]?.aborted).toBe(true);
    expect(s.runtime.work.list()[0]).toMatchObject({ attempts: 1 });
    expect(s.runtime.work.list()[0]?.lastError).toMatch(/did not settle within 1000 ms/);
    await settle(s);
    expect(signals).toHaveLength(2);
    expect(s.runtime.work.list()).toEqual([]);
  });

  it("when retries run out, it ends as trigger.failed and an error log", async () => {
    const { calls, hook } = recorder(Number.POSITIVE_INFINITY);
    const { errors, logger } = capturingLogger();
    const s = createTestSession(agent, { onComplete: hook, logger });
    const { runId } = await s.runtime.start({ message: "go" });
    await settle(s);
    expect(calls).toHaveLength(5);
    expect(s.runtime.ledger.read(0).at(-1)).toMatchObject({
      kind: "trigger.failed",
      runId: null,
      data: {
        kind: "hook.on_complete",
        key: completionHookKey(runId, runEndSeq(s)),
        attempts: 5,
        error: { code: "hook_failed", message: "receiver down" },
      },
    });
    expect(errors.some((m) => m.includes(`onComplete hook for run ${runId} gave up`))).toBe(true);
    expect(s.runtime.work.list()).toEqual([]);
  });

  it("a terminal error gives up at once; a closed session still logs it", async () => {
    const { calls, hook } = recorder(1, () => new TerminalError("bad_hook", "never works"));
    const { errors, logger } = capturingLogger();
    const s = createTestSession(agent, {
      onComplete: hook,
      logger,
      // The session is closed while the hook runs: the failure can no longer be appended.
      faults: async (point) => {
        if (point === "before-on-complete") await s.runtime.close();
      },
    });
    await s.runtime.start({ message: "go" });
    await settle(s);
    expect(calls).toHaveLength(1);
    expect(s.runtime.ledger.read(0).at(-1)?.kind).toBe("session.closed");
    expect(errors.some((m) => m.includes("the session is closed"))).toBe(true);
    expect(s.runtime.work.list()).toEqual([]);
  });
});
