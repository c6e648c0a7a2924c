import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors.ts";
import type { JsonValue, NewEvent } from "../ledger/events.ts";
import type { Checkpoint } from "../ledger/projections/checkpoints.ts";
import { type RunRecord, startsNewStep } from "../ledger/projections/runs.ts";
import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import { type CallRef, failedCalls, supersededCalls } from "./failed-calls.ts";
import { type PriorMessageInput, toPriorMessages } from "./prior-messages.ts";

/**
 * Run control decisions: what a resume or a retry writes, or why it is refused.
 * Pure: the runtime reads the projections, calls these, and commits the events.
 */
export interface Decision {
  readonly callId: string;
  readonly approved: boolean;
  /** Edited arguments to run the call with (approval only). */
  readonly args?: JsonValue;
  /** The call's known result, recorded instead of running it (e.g. an outcome a human checked). */
  readonly result?: JsonValue;
  readonly reason?: string;
}

export interface ResumeRequest {
  readonly mode?: "continue" | "with_message" | "from_checkpoint";
  readonly message?: string;
  /** Added to the conversation before `message` (modes `with_message`, `from_checkpoint`). */
  readonly messages?: readonly PriorMessageInput[];
  readonly checkpoint?: string;
  readonly approvals?: readonly Decision[];
}

/**
 * Whether a resume would be accepted now (`SessionRuntime.canResume`): from the resume's own
 * decision, so it cannot disagree with it. `code` and `reason` are the refusal's.
 */
export type ResumeCheck =
  | { readonly canResume: true }
  | { readonly canResume: false; readonly code: string; readonly reason: string };

export interface RetryRequest {
  readonly mode: "from_checkpoint" | "from_start";
  readonly checkpoint?: string;
}

export interface ControlState {
  readonly sessionId: string;
  readonly run: RunRecord | undefined;
  /** The tool calls of the run's current step. */
  readonly calls: readonly ToolCallRecord[];
  /** The run's calls still delegated (to a sub-agent or a Workflow instance), of any step. */
  readonly delegated: readonly CallRef[];
  readonly findCheckpoint: (id: string) => Checkpoint | undefined;
  readonly startCheckpoint: Checkpoint | undefined;
  readonly latestCheckpoint: Checkpoint | undefined;
  /** Throws a BadRequestError when edited arguments do not fit the tool's schema. */
  readonly checkArgs: (call: ToolCallRecord, args: JsonValue) => void;
  /** Going back to a checkpoint: the `state.updated` that restores its application state, if it changed. */
  readonly restoreState: (runId: string, checkpoint: Checkpoint) => NewEvent[];
}

const PENDING = new Set(["awaiting_approval", "outcome_unknown"]);

/** True for a call that waits for a human's decision (`resume` with `approvals`). */
export function awaitsDecision(call: Pick<ToolCallRecord, "status">): boolean {
  return PENDING.has(call.status);
}

export function decideResume(state: ControlState, request: ResumeRequest): NewEvent[] {
  const run = requireRun(state, "resume");
  if (run.status === "running") {
    throw new ConflictError(
      "run_running",
      `run ${run.runId} is running; there is nothing to resume`,
      {
        details: { runId: run.runId },
      },
    );
  }
  if (run.status === "completed" || run.status === "aborted") {
    throw new ConflictError(
      "run_not_resumable",
      `run ${run.runId} is ${run.status} and cannot be resumed; start a new run with POST .../runs, or from Worker code: handle.send(message)`,
      { details: { runId: run.runId, status: run.status } },
    );
  }
  if (request.approvals && request.approvals.length > 0)
    return decideApprovals(state, run, request.approvals);
  const pending = state.calls.filter((c) => PENDING.has(c.status));
  // A message or messages without a mode resume with them (the body's schema refuses them
  // beside an explicit "continue").
  const mode =
    request.mode ??
    (request.message !== undefined || request.messages?.length ? "with_message" : "continue");
  // Continuing a run that waits for decisions would only make it wait again (two events, no
  // change): a client polling canResume -> resume would grow the ledger for nothing.
  if (mode === "continue" && run.status === "waiting" && pending.length > 0) {
    const ids = pending.map((c) => c.callId);
    throw new ConflictError(
      "decisions_pending",
      `run ${run.runId} waits for a decision on ${ids.length === 1 ? "call" : "calls"} ${ids.join(", ")}; resume with approvals: [{ callId, approved }] for each, or with mode "with_message" to cancel them`,
      { details: { runId: run.runId, pending: ids } },
    );
  }
  const messages = request.messages?.length ? toPriorMessages(request.messages) : undefined;
  if (mode === "from_checkpoint") {
    // The resume's schema (run-commands.ts) makes from_checkpoint carry a checkpoint.
    const checkpoint = requireCheckpoint(state, run, request.checkpoint ?? "");
    return [
      ...state.restoreState(run.runId, checkpoint),
      ...resumed(state, run, {
        mode,
        checkpoint: checkpoint.seq,
        message: request.message,
        messages,
      }),
    ];
  }
  if (run.status === "failed") {
    throw new ConflictError(
      "run_failed",
      `run ${run.runId} failed; run it again with POST .../retry (from_checkpoint or from_start), or from Worker code: handle.resume({ mode: "from_checkpoint", checkpoint })`,
      {
        details: { runId: run.runId },
      },
    );
  }
  if (mode === "with_message") {
    // (Its message or messages are input: resumeInput refuses the mode without them.)
    // A new message replaces the calls still waiting for a decision: they end as cancelled.
    const cancelled = failedCalls(run.runId, pending, {
      code: "cancelled",
      message: "cancelled: the run was resumed with a new message",
    });
    return [...cancelled, ...resumed(state, run, { mode, message: request.message, messages })];
  }
  // Continue: calls still waiting for a decision make the run wait for them again, and calls
  // still delegated are waited for again.
  return resumed(state, run, { mode: "continue" });
}

export function decideRetry(state: ControlState, request: RetryRequest): NewEvent[] {
  const run = requireRun(state, "retry");
  if (run.status !== "failed") {
    throw new ConflictError(
      "run_not_failed",
      `run ${run.runId} is ${run.status}; only a failed run can be retried${run.status === "interrupted" || run.status === "waiting" ? " (use resume)" : ""}`,
      { details: { runId: run.runId, status: run.status } },
    );
  }
  if (request.mode === "from_start") {
    const start = state.startCheckpoint;
    if (!start)
      throw new NotFoundError("unknown_checkpoint", `run ${run.runId} has no start checkpoint`);
    return [
      ...state.restoreState(run.runId, start),
      ...resumed(state, run, { mode: "retry_from_start", checkpoint: start.seq }),
    ];
  }
  const checkpoint = request.checkpoint
    ? requireCheckpoint(state, run, request.checkpoint)
    : (state.latestCheckpoint ?? state.startCheckpoint);
  if (!checkpoint)
    throw new NotFoundError("unknown_checkpoint", `run ${run.runId} has no checkpoint`);
  return [
    ...state.restoreState(run.runId, checkpoint),
    ...resumed(state, run, { mode: "retry_from_checkpoint", checkpoint: checkpoint.seq }),
  ];
}

function decideApprovals(
  state: ControlState,
  run: RunRecord,
  decisions: readonly Decision[],
): NewEvent[] {
  if (run.status !== "waiting") {
    throw new ConflictError(
      "no_pending_decisions",
      `run ${run.runId} is ${run.status}; no call waits for a decision`,
    );
  }
  const pending = new Map(
    state.calls.filter((c) => PENDING.has(c.status)).map((c) => [c.callId, c]),
  );
  const seen = new Set<string>();
  const events: NewEvent[] = [];
  for (const decision of decisions) {
    const call = pending.get(decision.callId);
    if (!call) {
      throw new NotFoundError(
        "unknown_call",
        `no call "${decision.callId.slice(0, 64)}" waits for a decision in run ${run.runId}; pending: ${[...pending.keys()].join(", ") || "none"}`,
        { details: { pending: [...pending.keys()] } },
      );
    }
    if (seen.has(call.callId)) {
      throw new BadRequestError(
        "duplicate_decision",
        `call ${call.callId} is answered twice in one request`,
      );
    }
    seen.add(call.callId);
    if (decision.args !== undefined) state.checkArgs(call, decision.args);
    events.push(...decisionEvents(run.runId, call, decision));
  }
  const left = [...pending.keys()].filter((id) => !seen.has(id));
  if (left.length === 0) events.push(...resumed(state, run, { mode: "approvals" }));
  return events;
}

function decisionEvents(runId: string, call: ToolCallRecord, decision: Decision): NewEvent[] {
  const base = { step: call.step, callId: call.callId };
  const resolved: NewEvent<"approval.resolved"> = {
    kind: "approval.resolved",
    runId,
    data: {
      ...base,
      approved: decision.approved,
      args: decision.args,
      reason: decision.reason,
      ...(decision.result !== undefined ? { withResult: true } : {}),
    },
  };
  if (decision.result !== undefined) {
    return [
      resolved,
      {
        kind: "tool.completed",
        runId,
        data: { ...base, name: call.name, result: decision.result },
      },
    ];
  }
  if (decision.approved) return [resolved];
  const message =
    call.status === "outcome_unknown"
      ? `a human chose not to run ${call.name} again after its outcome was lost${decision.reason ? `: ${decision.reason}` : ""}`
      : `a human denied this call${decision.reason ? `: ${decision.reason}` : ""}`;
  return [
    resolved,
    {
      kind: "tool.failed",
      runId,
      data: { ...base, name: call.name, error: { code: "denied", message } },
    },
  ];
}

function requireRun(state: ControlState, action: string): RunRecord {
  if (!state.run) {
    throw new ConflictError(
      "no_run",
      `session ${state.sessionId} has no run to ${action}; start one with POST .../runs, or from Worker code: agentRuns(env).execute`,
    );
  }
  return state.run;
}

function requireCheckpoint(state: ControlState, run: RunRecord, id: string): Checkpoint {
  const checkpoint = state.findCheckpoint(id);
  if (!checkpoint || checkpoint.runId !== run.runId) {
    throw new NotFoundError(
      "unknown_checkpoint",
      `run ${run.runId} has no checkpoint "${id.slice(0, 40)}"; list them with GET .../checkpoints`,
    );
  }
  return checkpoint;
}

/**
 * `run.resumed`. A resume that starts a new step (`startsNewStep`) first settles every call the
 * run still has delegated: the run goes on past them (`supersededCalls`), so none stays open
 * in a step the model has left, and its late answer records nothing.
 */
function resumed(
  state: ControlState,
  run: RunRecord,
  data: NewEvent<"run.resumed">["data"],
): NewEvent[] {
  const superseded = startsNewStep(data.mode) ? supersededCalls(run.runId, state.delegated) : [];
  return [
    ...superseded,
    { kind: "run.resumed", runId: run.runId, data: JSON.parse(JSON.stringify(data)) },
  ];
}
