import type { RunRecord } from "../ledger/projections/runs.ts";
import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { WaitReason } from "../ledger/wait-reasons.ts";

/**
 * The step machine: given what the ledger says about a run, what happens next.
 * Pure, so every recovery path is a unit test.
 *
 * Invariants:
 * 1. The next action is a function of projections only (never of memory), so a
 *    fresh object after eviction or a crash takes exactly the action the lost
 *    one would have taken.
 * 2. A step is one model call plus the tool calls it asked for. A step whose
 *    model call was lost starts again as attempt + 1 and its partial text is
 *    discarded; a tool call that started but has no result is redriven by its
 *    effect: pure and idempotent run again, irreversible becomes outcome_unknown.
 * 3. A call that needs approval never starts before a human approved it; an
 *    approved irreversible call whose outcome was unknown may run again.
 * 4. Nothing here writes; the runtime commits what this returns.
 */
export type StepAction =
  | { readonly type: "idle" }
  | { readonly type: "interrupt" }
  | { readonly type: "fail"; readonly code: string; readonly message: string }
  | { readonly type: "model"; readonly step: number; readonly attempt: number }
  | {
      readonly type: "tools";
      readonly step: number;
      readonly run: ToolCallRecord[];
      readonly unknown: ToolCallRecord[];
    }
  | { readonly type: "request-approval"; readonly step: number; readonly calls: ToolCallRecord[] }
  | { readonly type: "pause"; readonly reason: WaitReason }
  | { readonly type: "finish-step"; readonly step: number };

export interface StepLimits {
  readonly maxSteps: number;
  /** Model attempts per step before the run fails (each lost attempt counts). */
  readonly maxModelAttempts: number;
  /** Whether a requested call must wait for a human first. */
  readonly needsApproval: (call: ToolCallRecord) => boolean;
  /** What a delegated call waits on (the `run.waiting` reason): default "subagent". */
  readonly waitsOn?: (call: ToolCallRecord) => WaitReason;
}

export function nextAction(
  run: RunRecord | undefined,
  calls: readonly ToolCallRecord[],
  limits: StepLimits,
): StepAction {
  if (run?.status !== "running") return { type: "idle" };
  if (run.interruptRequested) return { type: "interrupt" };
  switch (run.phase) {
    case "between":
      if (run.step - run.stepBase >= limits.maxSteps) {
        return {
          type: "fail",
          code: "max_steps",
          message: `the run used all ${limits.maxSteps} steps without a final answer; raise maxSteps or simplify the task`,
        };
      }
      return { type: "model", step: run.step + 1, attempt: 1 };
    case "model":
      if (run.attempt >= limits.maxModelAttempts) {
        return {
          type: "fail",
          code: "step_attempts_exhausted",
          message: `step ${run.step} was lost ${run.attempt} times before the model answered; check the model provider and the object's logs`,
        };
      }
      return { type: "model", step: run.step, attempt: run.attempt + 1 };
    case "tools":
      return toolAction(run.step, calls, limits);
  }
}

function toolAction(
  step: number,
  calls: readonly ToolCallRecord[],
  limits: StepLimits,
): StepAction {
  const ask = calls.filter((c) => c.status === "requested" && limits.needsApproval(c));
  if (ask.length > 0) return { type: "request-approval", step, calls: ask };
  if (calls.some((c) => c.status === "awaiting_approval"))
    return { type: "pause", reason: "approval" };
  const run = calls.filter(
    (c) =>
      c.status === "requested" ||
      c.status === "approved" ||
      (c.status === "started" && c.effect !== "irreversible"),
  );
  const unknown = calls.filter((c) => c.status === "started" && c.effect === "irreversible");
  if (run.length > 0 || unknown.length > 0) return { type: "tools", step, run, unknown };
  const delegated = calls.find((c) => c.status === "delegated");
  if (delegated) return { type: "pause", reason: limits.waitsOn?.(delegated) ?? "subagent" };
  if (calls.some((c) => c.status === "outcome_unknown")) {
    return { type: "pause", reason: "outcome_unknown" };
  }
  return { type: "finish-step", step };
}
