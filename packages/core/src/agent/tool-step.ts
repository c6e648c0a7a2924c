import { DurableAgentsError } from "../errors/base.ts";
import type { NewEvent } from "../ledger/events.ts";
import { stepToolCalls, type ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import type { TriggerOutcome } from "../triggers/pump.ts";
import type { Delegation } from "./define-subagent.ts";
import { resultNeedsDurability, startNeedsDurability } from "./durability.ts";
import type { RunDriverOptions } from "./run-driver.ts";
import { ResultNotRecordedError } from "./run-errors.ts";
import { handoff, sendLater, startKey } from "./subagents.ts";
import type { ToolRules } from "./tool-rules.ts";
import { runTool, type ToolOutcome } from "./tool-runner.ts";
import { createLater, workflowLaunch } from "./workflow-calls.ts";

/**
 * One tool step of a run (the step machine's `tools` action), for `RunDriver.perform`:
 * `tool.outcome_unknown` for calls a crash left unsettled, `tool.started` for the calls that
 * start now (with a delegated call's start message or a Workflow instance's creation, in the
 * same commit), the durability wait their effects need (durability.ts), then every call that
 * runs here, concurrently, each result committed as it lands.
 *
 * Invariants:
 * 1. A tool's side effect never happens before its `tool.started` is committed (and durable,
 *    when its effect needs it).
 * 2. Nothing is committed for a run that stopped running meanwhile (`host.stillRunning`
 *    before every commit after an await).
 * 3. The step ends (returns or throws) only once every call it runs here has landed. A commit
 *    that failed fails the step after that, and its retry redrives from the ledger as after a
 *    crash (step-machine.ts invariant 2): no call still running under it is redriven.
 */

const AGAIN: TriggerOutcome = { type: "again" };
const DONE: TriggerOutcome = { type: "done" };

/** What a tool step needs from the driver that runs it (run-driver.ts). */
export interface ToolStepHost {
  readonly options: RunDriverOptions;
  /** Whether the run is still running (read before each commit after an await). */
  stillRunning(runId: string): boolean;
  append(events: NewEvent[], effects?: (sql: SqlPort) => void): void;
  /** The run's tools, and who performs each call. */
  readonly rules: ToolRules;
}

/** The calls of one step to perform (`Performable` of type `tools`). */
export interface ToolStepAction {
  readonly runId: string;
  readonly step: number;
  readonly toRun: readonly ToolCallRecord[];
  readonly unknown: readonly ToolCallRecord[];
  /** Performed in a Workflow step: `executor: "workflow"` tools run here, not in an instance. */
  readonly inStep: boolean;
}

/** Runs one tool step; `again` when the run goes on. `signal` aborts the tools (an abort). */
export async function runToolStep(
  host: ToolStepHost,
  { runId, step, toRun, unknown, inStep }: ToolStepAction,
  signal: AbortSignal,
): Promise<TriggerOutcome> {
  const o = host.options;
  const { agent, sessionId, faults } = o;
  if (unknown.length > 0) {
    host.append(
      unknown.map((c) => ({
        kind: "tool.outcome_unknown",
        runId,
        data: { step, callId: c.callId, name: c.name },
      })),
    );
  }
  const fresh = toRun.filter((c) => c.status === "requested" || c.status === "approved");
  const { rules } = host;
  const tools = rules.tools(runId);
  const effectOf = (name: string) => tools.find((t) => t.name === name)?.effect ?? "irreversible";
  const delegated = fresh.filter((c) => rules.delegation(c.name));
  // Workflow calls (new, or started by a deploy that ran them inline) go to an instance,
  // unless the run's own Workflow performs them in its step, or this server can create none:
  // those fail now, and no workflow.started names an instance that never existed.
  const onWorkflows = toRun
    .filter((c) => !inStep && rules.isWorkflow(c.name))
    .map((call) => ({ call, refused: o.workflowRefusal(call.name) }));
  const refused = onWorkflows.flatMap(({ call: c, refused: error }): NewEvent[] =>
    error
      ? [{ kind: "tool.failed", runId, data: { step, callId: c.callId, name: c.name, error } }]
      : [],
  );
  const launches = await Promise.all(
    onWorkflows
      .filter((w) => !w.refused)
      .map(({ call: c }) =>
        workflowLaunch(agent.name, sessionId, c, idempotencyKey(sessionId, runId, step, c.callId)),
      ),
  );
  // The await above sits between the decision and its commit: a run aborted meanwhile gets nothing.
  if (!host.stillRunning(runId)) return DONE;
  if (fresh.length > 0 || launches.length > 0 || refused.length > 0) {
    const started: NewEvent[] = fresh.map((c) => ({
      kind: "tool.started",
      runId,
      data: {
        step,
        callId: c.callId,
        name: c.name,
        args: c.args,
        effect: effectOf(c.name),
        idempotencyKey: idempotencyKey(sessionId, runId, step, c.callId),
      },
    }));
    const handoffs = delegated.map((c) =>
      handoff(
        o.agent,
        o.sessionId,
        runId,
        c,
        rules.delegation(c.name) as Delegation,
        o.tracer?.stepContext(runId),
      ),
    );
    // A delegated call's start message (or instance creation) commits with its event (the outbox).
    const events = [
      ...started,
      ...handoffs.map((h) => h.event),
      ...launches.map((l) => l.event),
      ...refused,
    ];
    host.append(events, (sql) => {
      const now = o.clock.now();
      for (const h of handoffs) sendLater(sql, startKey(h.message.parent), h.message, now);
      for (const l of launches) createLater(sql, l.payload, now);
    });
    // Invariant: a tool's side effect never happens before its tool.started is durable.
    const start = { effects: fresh.map((c) => effectOf(c.name)), delegated: delegated.length };
    if (startNeedsDurability({ ...start, launched: launches.length })) await o.durable();
    for (const c of fresh)
      await faults?.("after-tool-started", {
        sessionId: o.sessionId,
        runId,
        step,
        callId: c.callId,
      });
    // The barrier is an await: a run aborted meanwhile starts no tool.
    if (!host.stillRunning(runId) || signal.aborted) return DONE;
  }
  const landed = await Promise.allSettled(
    toRun
      .filter((c) => !rules.delegation(c.name) && !rules.isWorkflow(c.name))
      .map(async (call) => {
        const key = call.idempotencyKey ?? idempotencyKey(sessionId, runId, step, call.callId);
        const start = o.clock.now();
        const outcome = await runTool(tools, call, key, {
          sessionId,
          runId,
          signal: signal,
          query: (query, ...params) => o.sql.exec(query, ...params),
          maxResultBytes: o.limits.maxToolResultBytes,
          appState: o.state,
          app: o.app,
          domains: o.domains,
          fetch: o.fetch,
        });
        o.tracer?.tool(
          runId,
          {
            step,
            callId: call.callId,
            name: call.name,
            effect: effectOf(call.name),
            idempotencyKey: key,
            ...(outcome.type === "failed" ? { error: outcome.error } : {}),
          },
          start,
          o.clock.now(),
        );
        await faults?.("before-tool-commit", {
          sessionId: o.sessionId,
          runId,
          step,
          callId: call.callId,
        });
        if (!host.stillRunning(runId)) return;
        // Only a call still `started` takes a result. In a Workflow step (`inStep`) a call can
        // have two performers (a step retried or replayed while its first attempt still ran),
        // so the ledger is asked; the alarm driver is the call's only performer (its lease).
        if (inStep && !stillStarted(o.sql, runId, step, call.callId)) return;
        const base = { step, callId: call.callId, name: call.name };
        let completed: boolean;
        try {
          completed = commitOutcome(host, runId, base, outcome);
        } catch (error) {
          throw new ResultNotRecordedError(base, error);
        }
        // Recorded: a lost irreversible result would leave its outcome unknown, so make it
        // durable now (a failed wait is the storage's error, not "not recorded").
        if (completed && resultNeedsDurability(effectOf(call.name))) await o.durable();
      }),
  );
  // Invariant 3: the step's work fails (and is retried) only now that every call has landed.
  const failure = landed.find((l) => l.status === "rejected");
  if (failure) throw failure.reason;
  return host.stillRunning(runId) ? AGAIN : DONE;
}

/**
 * Commits one call's outcome: its result (with its staged writes, state and app events) or its
 * failure. Returns whether a result was recorded (`tool.completed`), which may need a durability
 * wait; throws when nothing could be recorded.
 */
function commitOutcome(
  host: ToolStepHost,
  runId: string,
  base: { step: number; callId: string; name: string },
  outcome: ToolOutcome,
): boolean {
  if (outcome.type === "failed") {
    host.append([{ kind: "tool.failed", runId, data: { ...base, error: outcome.error } }]);
    return false;
  }
  const o = host.options;
  const events: NewEvent[] = [
    { kind: "tool.completed", runId, data: { ...base, result: outcome.result } },
  ];
  // Staged state commits with the result (its version is assigned now, in order).
  if (outcome.state) {
    const source = { source: "tool" as const, step: base.step, callId: base.callId };
    events.push(o.state.event(runId, outcome.state.value, source));
  }
  // Its app events follow it; a projection that refuses one fails the call instead.
  try {
    host.append([...events, ...outcome.events], (sql) => {
      for (const write of outcome.writes) write(sql);
    });
  } catch (error) {
    if (outcome.events.length === 0 || !(error instanceof DurableAgentsError)) throw error;
    const failure = { code: error.code, message: error.message };
    host.append([{ kind: "tool.failed", runId, data: { ...base, error: failure } }]);
    return false;
  }
  return true;
}

/** Whether the call is `started` (no outcome yet) by the tool-calls projection. */
function stillStarted(sql: SqlPort, runId: string, step: number, callId: string): boolean {
  return stepToolCalls(sql, runId, step).find((c) => c.callId === callId)?.status === "started";
}

/** Stable across redrives (every part is in the ledger), different in a fork (new session id). */
export function idempotencyKey(
  sessionId: string,
  runId: string,
  step: number,
  callId: string,
): string {
  return `${sessionId}/${runId}/${step}/${callId}`;
}
