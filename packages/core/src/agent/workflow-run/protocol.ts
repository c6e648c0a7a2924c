import type { ErrorInfo } from "../../ledger/events.ts";
import type { RunStatus } from "../../ledger/projections/runs.ts";
import type {
  ToolWorkflowOutcome,
  ToolWorkflowParams,
  ToolWorkflowStatus,
} from "../workflow-calls.ts";

/**
 * What the session object and a run's Workflow instance say to each other (the Workflow
 * executor, docs/architecture.md (Two executors)). The session decides and commits; the
 * Workflow performs, one `step.do` per model call and per tool call, and parks in
 * `waitForEvent` while the run waits. Everything here crosses an RPC boundary: plain JSON.
 */

/** The event the session sends a parked instance when something moved its run. */
export const WAKE_EVENT = "wake";

/** A run's Workflow instance: which session object to ask, and which run it drives. */
export interface AgentWorkflowParams {
  readonly agent: string;
  readonly session: string;
  readonly runId: string;
}

/**
 * The session's answer to "what now?" (a `decide` call), after it committed whatever was only a
 * ledger write (an interrupt, a failure, a pause, a finished step, approval requests).
 * - `end`: the run is over (or was replaced by a newer run while interrupted): return.
 * - `wait`: the run waits (approval, sub-agent, interrupted, ...) since the event `seq`:
 *   park in `waitForEvent("wait <seq>")` until a wake (or a timeout), then ask again.
 * - `model`: perform step `step`'s model call in a `step.do("model <step>")`.
 * - `tools`: perform each call in its own `step.do("tool <step> <callId>")`, in parallel.
 */
export type WorkflowDecision =
  | { readonly type: "end"; readonly status: RunStatus | "superseded" }
  | { readonly type: "wait"; readonly seq: number }
  | { readonly type: "model"; readonly step: number }
  | {
      readonly type: "tools";
      readonly step: number;
      readonly calls: readonly { readonly callId: string }[];
    };

/**
 * The session object as a run's Workflow reaches it (over DO RPC in Cloudflare; in-process
 * in core's tests). Every method is idempotent by step name: a call for a step that is not
 * the run's current one (a retried step whose first attempt was committed, a replayed
 * report) is acknowledged and changes nothing.
 */
export interface WorkflowRunSession {
  decide(): Promise<WorkflowDecision>;
  /** Performs and commits step `step`'s model call, if it is still the run's next action. */
  performModel(step: number): Promise<void>;
  /**
   * Performs and commits one tool call of step `step`, if it still has to run. For an
   * `executor: "workflow"` tool, records its start and answers the call for the Workflow to
   * execute in the same step (then `commitTool`).
   */
  performTool(step: number, callId: string): Promise<ToolWorkflowParams | undefined>;
  /** The outcome of a workflow tool executed in the step (taken once, while the call is started). */
  commitTool(step: number, callId: string, outcome: ToolWorkflowOutcome): Promise<void>;
  /** The Workflow's retries of a step are spent: fail the run (if it is still active). */
  giveUp(error: ErrorInfo): Promise<void>;
}

/**
 * One call of a run's Workflow instance to its session object, as it crosses the RPC
 * boundary: a `WorkflowRunSession` method and its arguments (`sessionOverCalls` makes the
 * session from a function that sends these; `SessionRuntime.wfCall` serves them, through
 * `WorkflowRunHost.call`).
 */
export type WorkflowCall =
  | { readonly type: "decide" }
  | { readonly type: "model"; readonly step: number }
  | { readonly type: "tool"; readonly step: number; readonly callId: string }
  | {
      readonly type: "commitTool";
      readonly step: number;
      readonly callId: string;
      readonly outcome: ToolWorkflowOutcome;
    }
  | { readonly type: "giveUp"; readonly error: ErrorInfo };

/** The session's answer to a `WorkflowCall`: the decision (`decide`), or a workflow tool's call to execute (`tool`). */
export interface WorkflowCallReply {
  readonly decision?: WorkflowDecision;
  readonly job?: ToolWorkflowParams;
}

/** The session a Workflow drives, over a function that sends each call (the RPC). */
export function sessionOverCalls(
  send: (call: WorkflowCall) => Promise<WorkflowCallReply>,
): WorkflowRunSession {
  return {
    decide: async () => (await send({ type: "decide" })).decision as WorkflowDecision,
    performModel: async (step) => void (await send({ type: "model", step })),
    performTool: async (step, callId) => (await send({ type: "tool", step, callId })).job,
    commitTool: async (step, callId, outcome) =>
      void (await send({ type: "commitTool", step, callId, outcome })),
    giveUp: async (error) => void (await send({ type: "giveUp", error })),
  };
}

/**
 * Creates and steers runs' Workflow instances (the Workflows binding in Cloudflare).
 * Resolves to a refusal for permanent errors (no binding); throws for transient ones.
 */
export interface AgentWorkflowPort {
  /**
   * Set when this port cannot drive runs at all (the binding is missing): why, and what to
   * add. A start with `executor: "workflow"` is then refused before anything is written.
   */
  readonly unavailable?: ErrorInfo;
  /**
   * Creates the instance `instanceId`, or, when it exists, sends it a `wake` event (and
   * restarts it when it had finished: a failed run retried). Creating an id that exists
   * is a success.
   */
  wake(instanceId: string, params: AgentWorkflowParams): Promise<ErrorInfo | undefined>;
  /** Terminates the instance; one already finished (or never created) is a success. */
  terminate(instanceId: string): Promise<void>;
  status(instanceId: string): Promise<ToolWorkflowStatus>;
}

/** `run-` and 40 hex digits of SHA-256: within Workflows' id limits (100 chars, `[A-Za-z0-9_-]`). */
export async function runInstanceId(
  agent: string,
  session: string,
  runId: string,
): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([agent, session, runId]));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `run-${hex.slice(0, 40)}`;
}
