/**
 * In workerd: a tool's result whose commit DO SQLite refuses (its `ctx.transaction` write) is
 * redriven by the step's retry as after a crash (docs/guarantees.md G3), and a call still
 * running when its neighbour's commit failed is not redriven under it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { commitFailures, unrecordedRuns } from "./fixture/unrecorded-agent.ts";
import { isTerminal, session } from "./support/session.ts";

beforeEach(() => {
  commitFailures.clear();
  unrecordedRuns.length = 0;
});

const toolEvents = (events: { kind: string; data: unknown }[], name: string) =>
  events
    .filter((e) => e.kind.startsWith("tool.") && (e.data as { name?: string }).name === name)
    .map((e) => e.kind);

describe("a tool's result that DO SQLite refuses to commit", () => {
  it("irreversible, once: the call runs once and waits with tool.outcome_unknown", async () => {
    commitFailures.set("charge", 1);
    const s = session("unrecorded");
    await s.post("runs", { input: { message: "charge" } });
    const end = await s.waitFor(isTerminal, 20_000);
    expect(end).toMatchObject({ kind: "run.waiting", data: { reason: "outcome_unknown" } });
    expect(unrecordedRuns).toHaveLength(1);
    expect(toolEvents(await s.events(), "charge")).toEqual([
      "tool.started",
      "tool.outcome_unknown",
    ]);
  });

  it("idempotent, once: the call runs again with the same key and has one result", async () => {
    commitFailures.set("record", 1);
    const s = session("unrecorded");
    await s.post("runs", { input: { message: "record" } });
    const end = await s.waitFor(isTerminal, 20_000);
    expect(end.kind).toBe("run.completed");
    expect(unrecordedRuns).toHaveLength(2);
    expect(new Set(unrecordedRuns).size).toBe(1);
    expect(toolEvents(await s.events(), "record")).toEqual(["tool.started", "tool.completed"]);
  });

  it("every time: the run fails with tool_result_not_recorded, every event kept", async () => {
    commitFailures.set("record", Number.POSITIVE_INFINITY);
    const s = session("unrecorded");
    await s.post("runs", { input: { message: "record" } });
    const end = await s.waitFor(isTerminal, 20_000);
    expect(end).toMatchObject({
      kind: "run.failed",
      data: { error: { code: "tool_result_not_recorded" } },
    });
    expect((end.data as { error: { message: string } }).error.message).toContain(
      "tool record ran (step 1, call call_0_0) but its result could not be recorded: no such table",
    );
    const kinds = (await s.events()).map((e) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(["run.started", "model.completed", "tool.started", "run.failed"]),
    );
  });

  it.each(["slow_charge", "slow_record"])(
    "%s, still running when its neighbour's commit failed, runs once and keeps its result",
    async (slow) => {
      commitFailures.set("record", 1);
      const s = session("unrecorded");
      await s.post("runs", { input: { message: `record ${slow}` } });
      // The record's commit fails, and its retry's backoff passes, while the slow call runs.
      const end = await s.waitFor(isTerminal, 20_000);
      // The record ran again in the step's retry; the slow call did not.
      expect(unrecordedRuns.filter((r) => r.startsWith("record "))).toHaveLength(2);
      expect(unrecordedRuns.filter((r) => r.startsWith(slow))).toHaveLength(1);
      expect(toolEvents(await s.events(), slow)).toEqual(["tool.started", "tool.completed"]);
      expect(end.kind).toBe("run.completed");
    },
  );
});
