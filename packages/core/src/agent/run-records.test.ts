/**
 * The run driver's records of its running runs (run-records.ts) stay equal to their rows after
 * every committed append, whoever appended, without reading them again; an append that rolls
 * back moves nothing, and a run that stops is read again.
 */
import { describe, expect, it } from "vitest";
import type { NewEvent } from "../ledger/events.ts";
import { Ledger } from "../ledger/ledger.ts";
import type { Projection } from "../ledger/projection.ts";
import { getRun, runsProjection } from "../ledger/projections/runs.ts";
import { stepToolCalls, toolCallsProjection } from "../ledger/projections/tool-calls.ts";
import { ManualClock } from "../testing/manual-clock.ts";
import { NodeSqlPort } from "../testing/node-sqlite.ts";
import { RunRecords } from "./run-records.ts";

const RUN = "run_1";

/** A projection that refuses `tool.failed` events: their append rolls back. */
const refusing: Projection = {
  name: "refusing",
  version: 1,
  create: [],
  drop: [],
  apply(_sql, event) {
    if (event.kind === "tool.failed") throw new Error("refused");
  },
};

class CountingPort extends NodeSqlPort {
  reads = 0;
  override exec<T extends object>(query: string, ...params: never[]): T[] {
    if (query.startsWith("SELECT")) this.reads++;
    return super.exec<T>(query, ...params);
  }
}

function setup() {
  const sql = new CountingPort();
  const ledger = new Ledger(sql, new ManualClock(), [
    runsProjection,
    toolCallsProjection,
    refusing,
  ]);
  const dropped: string[] = [];
  const records = new RunRecords(sql, ledger, (runId) => dropped.push(runId));
  /** The record and step calls as kept, then as the rows are (read after, not counted). */
  const compare = () => {
    const reads = sql.reads;
    const kept = records.run(RUN);
    const calls = kept?.phase === "tools" ? records.stepCalls(kept) : [];
    const readWhileKept = sql.reads - reads;
    const row = getRun(sql, RUN);
    const rows = row?.phase === "tools" ? stepToolCalls(sql, RUN, row.step) : [];
    return { kept, row, calls, rows, readWhileKept };
  };
  return { sql, ledger, records, dropped, compare };
}

const started: NewEvent = {
  kind: "run.started",
  runId: RUN,
  data: { agent: "a", input: { message: "hi" } },
};
const stepStarted: NewEvent = { kind: "step.started", runId: RUN, data: { step: 1, attempt: 1 } };
const withCalls: NewEvent = {
  kind: "model.completed",
  runId: RUN,
  data: {
    step: 1,
    text: "",
    toolCalls: [
      { callId: "c1", name: "add", args: { a: 1 } },
      { callId: "c2", name: "add", args: { a: 2 } },
    ],
    finishReason: "tool-calls",
    usage: { inputTokens: 1, outputTokens: 1 },
    model: "m",
  },
};
const toolStarted = (callId: string): NewEvent => ({
  kind: "tool.started",
  runId: RUN,
  data: { step: 1, callId, name: "add", args: {}, effect: "pure", idempotencyKey: `k/${callId}` },
});

describe("RunRecords", () => {
  it("follows a run from its start, through its step, without reading it again", () => {
    const { ledger, compare } = setup();
    ledger.append([started]);
    ledger.append([stepStarted]);
    ledger.append([withCalls]);
    ledger.append([toolStarted("c1")]);
    ledger.append([
      {
        kind: "tool.completed",
        runId: RUN,
        data: { step: 1, callId: "c1", name: "add", result: 3 },
      },
    ]);
    const { kept, row, calls, rows, readWhileKept } = compare();
    expect(kept).toEqual(row);
    expect(row?.phase).toBe("tools");
    expect(calls).toEqual(rows);
    expect(calls.map((c) => c.status)).toEqual(["completed", "requested"]);
    expect(readWhileKept).toBe(0);
  });

  it("moves with an append it did not make (a command between two actions)", () => {
    const { ledger, compare } = setup();
    ledger.append([started, stepStarted]);
    ledger.append([{ kind: "run.interrupt_requested", runId: RUN, data: { reason: "stop it" } }]);
    const { kept, row, readWhileKept } = compare();
    expect(kept?.interruptRequested).toBe(true);
    expect(kept?.interruptReason).toBe("stop it");
    expect(kept).toEqual(row);
    expect(readWhileKept).toBe(0);
  });

  it("keeps what it had when an append rolls back after the projections wrote the rows", () => {
    const { ledger, compare } = setup();
    ledger.append([started, stepStarted, withCalls]);
    const before = compare();
    // step.completed moves the run's row and tool.started a call's, then the batch is refused.
    expect(() =>
      ledger.append([
        toolStarted("c1"),
        { kind: "step.completed", runId: RUN, data: { step: 1 } },
        {
          kind: "tool.failed",
          runId: RUN,
          data: { step: 1, callId: "c2", name: "add", error: { code: "x", message: "x" } },
        },
      ]),
    ).toThrow("refused");
    const after = compare();
    expect(after.kept).toEqual(before.kept);
    expect(after.kept).toEqual(after.row);
    expect(after.calls).toEqual(after.rows);
    expect(after.calls.map((c) => c.status)).toEqual(["requested", "requested"]);
    expect(after.readWhileKept).toBe(0);
  });

  it("drops a run that stops running, and reads it once when it runs again", () => {
    const { ledger, records, dropped, compare } = setup();
    ledger.append([started]);
    ledger.append([{ kind: "run.waiting", runId: RUN, data: { reason: "approval" } }]);
    expect(dropped).toEqual([RUN]);
    expect(records.follows(RUN)).toBe(false);
    expect(compare().readWhileKept).toBe(1); // A waiting run is read each time it is asked for.
    ledger.append([{ kind: "run.resumed", runId: RUN, data: { mode: "approvals" } }]);
    const resumed = compare();
    expect(resumed.kept?.status).toBe("running");
    expect(resumed.kept).toEqual(resumed.row);
    expect(resumed.readWhileKept).toBe(0);
  });

  it("drops the runs of a batch that reaches it after a later one (an append made by a listener)", () => {
    const sql = new CountingPort();
    const ledger = new Ledger(sql, new ManualClock(), [runsProjection, toolCallsProjection]);
    // A listener registered first appends when it sees step.started: that later batch reaches
    // every listener before the earlier one reaches RunRecords.
    ledger.onAppend((events) => {
      if (events.some((e) => e.kind === "step.started"))
        ledger.append([{ kind: "run.interrupt_requested", runId: RUN, data: { reason: "r" } }]);
    });
    const records = new RunRecords(sql, ledger, () => undefined);
    ledger.append([started]);
    ledger.append([stepStarted]);
    expect(records.follows(RUN)).toBe(false);
    const run = records.run(RUN);
    expect(run).toEqual(getRun(sql, RUN));
    expect(run?.interruptRequested).toBe(true);
  });
});
