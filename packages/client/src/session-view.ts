/**
 * A UI view of a session, folded from its ledger events: messages with
 * streamed text, run status, approvals that wait for an answer, and the
 * application state (`state.updated`).
 *
 * Invariants:
 * 1. `reduceView` is pure and applies each event once; the view after
 *    events e1..en is the same however they were batched or reconnected.
 * 2. `model.completed` text is authoritative: it replaces the text streamed
 *    by the step's deltas, so a restarted step (`attempt` > 1) never shows
 *    its lost attempt twice.
 * 3. Unknown event kinds leave the view unchanged except for its offset.
 */
import type { LedgerEvent, SessionStatus } from "./types.ts";

export type ViewPart =
  | { readonly type: "text"; readonly text: string }
  | {
      readonly type: "tool-call";
      readonly callId: string;
      readonly name: string;
      readonly args: unknown;
    }
  | {
      readonly type: "tool-result";
      readonly callId: string;
      readonly name: string;
      readonly status: "completed" | "failed" | "outcome_unknown";
      readonly result?: unknown;
      readonly error?: { readonly code: string; readonly message: string };
    };

export interface ViewMessage {
  readonly id: string;
  readonly runId: string | null;
  readonly role: "user" | "assistant" | "tool";
  readonly parts: readonly ViewPart[];
}

export interface PendingApproval {
  readonly runId: string | null;
  readonly callId: string;
  readonly name: string;
  readonly args: unknown;
}

export interface SessionView {
  readonly messages: readonly ViewMessage[];
  /** `idle` until the first run starts. */
  readonly status: SessionStatus;
  readonly runId: string | null;
  readonly pendingApprovals: readonly PendingApproval[];
  /**
   * The application state as of the last `state.updated` (`null` before the first one: the
   * agent's `initialState`, if any, is in `session.state()`), and its version, which is the
   * `expectedVersion` for `setState`.
   */
  readonly state: unknown;
  readonly stateVersion: number;
  /** The offset of the last event folded in: resume reading from here. */
  readonly offset: string;
}

export const EMPTY_VIEW: SessionView = {
  messages: [],
  status: "idle",
  runId: null,
  pendingApprovals: [],
  state: null,
  stateVersion: 0,
  offset: "-1",
};

const RUN_STATUS: Partial<Record<string, SessionStatus>> = {
  "run.started": "running",
  "run.waiting": "waiting",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.interrupted": "interrupted",
  "run.aborted": "aborted",
};

export function reduceView(view: SessionView, event: LedgerEvent): SessionView {
  const next: SessionView = {
    ...view,
    offset: event.offset,
    ...runState(view, event),
  };
  switch (event.kind) {
    case "run.started":
      return withMessage(next, `u:${event.seq}`, event.runId, "user", () => [
        { type: "text", text: event.data.input.message },
      ]);
    case "step.started":
      if ((event.data.attempt ?? 1) <= 1) return next;
      return withMessage(
        next,
        stepId(event, event.data.step, "a"),
        event.runId,
        "assistant",
        () => [],
      );
    case "model.delta":
      return withMessage(
        next,
        stepId(event, event.data.step, "a"),
        event.runId,
        "assistant",
        (parts) => appendText(parts, event.data.text),
      );
    case "model.completed": {
      const calls: ViewPart[] = event.data.toolCalls.map((c) => ({ type: "tool-call", ...c }));
      const text: ViewPart[] =
        event.data.text === "" ? [] : [{ type: "text", text: event.data.text }];
      return withMessage(
        next,
        stepId(event, event.data.step, "a"),
        event.runId,
        "assistant",
        () => [...text, ...calls],
      );
    }
    case "tool.completed":
    case "tool.failed":
    case "tool.outcome_unknown": {
      const result: ViewPart =
        event.kind === "tool.completed"
          ? {
              type: "tool-result",
              callId: event.data.callId,
              name: event.data.name,
              status: "completed",
              result: event.data.result,
            }
          : event.kind === "tool.failed"
            ? {
                type: "tool-result",
                callId: event.data.callId,
                name: event.data.name,
                status: "failed",
                error: event.data.error,
              }
            : {
                type: "tool-result",
                callId: event.data.callId,
                name: event.data.name,
                status: "outcome_unknown",
              };
      const step = event.data.step ?? stepOfCall(view, event.data.callId);
      const settled = withoutApproval(next, event.data.callId);
      return withMessage(settled, stepId(event, step, "t"), event.runId, "tool", (parts) => [
        ...parts,
        result,
      ]);
    }
    case "tool.started":
      return withoutApproval(next, event.data.callId);
    case "state.updated":
      return { ...next, state: event.data.state, stateVersion: event.data.version };
    case "approval.requested":
      return {
        ...next,
        pendingApprovals: [
          ...next.pendingApprovals,
          {
            runId: event.runId,
            callId: event.data.callId,
            name: event.data.name,
            args: event.data.args,
          },
        ],
      };
    default:
      return next;
  }
}

function runState(view: SessionView, event: LedgerEvent): Partial<SessionView> {
  const status = RUN_STATUS[event.kind];
  if (status === undefined) return {};
  const ended = status !== "running" && status !== "waiting";
  return {
    status,
    runId: event.runId,
    pendingApprovals: ended
      ? view.pendingApprovals.filter((a) => a.runId !== event.runId)
      : view.pendingApprovals,
  };
}

function stepId(event: LedgerEvent, step: number | undefined, suffix: "a" | "t"): string {
  return `${event.runId ?? "-"}:${step ?? "?"}:${suffix}`;
}

/** Finds the step of a call from the assistant message that asked for it (older servers omit `step`). */
function stepOfCall(view: SessionView, callId: string): number | undefined {
  const owner = view.messages.find((m) =>
    m.parts.some((p) => p.type === "tool-call" && p.callId === callId),
  );
  const step = owner?.id.split(":")[1];
  return step === undefined || step === "?" ? undefined : Number(step);
}

function withMessage(
  view: SessionView,
  id: string,
  runId: string | null,
  role: ViewMessage["role"],
  update: (parts: readonly ViewPart[]) => readonly ViewPart[],
): SessionView {
  // Searched from the end: the message an event updates is almost always the last one.
  const index = view.messages.findLastIndex((m) => m.id === id);
  const messages = [...view.messages];
  if (index === -1) messages.push({ id, runId, role, parts: update([]) });
  else {
    const current = messages[index] as ViewMessage;
    messages[index] = { ...current, parts: update(current.parts) };
  }
  return { ...view, messages };
}

function appendText(parts: readonly ViewPart[], text: string): readonly ViewPart[] {
  const last = parts.at(-1);
  if (last?.type === "text")
    return [...parts.slice(0, -1), { type: "text", text: last.text + text }];
  return [...parts, { type: "text", text }];
}

function withoutApproval(view: SessionView, callId: string): SessionView {
  if (!view.pendingApprovals.some((a) => a.callId === callId)) return view;
  return { ...view, pendingApprovals: view.pendingApprovals.filter((a) => a.callId !== callId) };
}
