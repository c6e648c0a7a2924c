/**
 * A UI view of a session, folded from its ledger events: messages with
 * streamed text, run status, approvals that wait for an answer, sub-agents,
 * and the application state (`state.updated`).
 *
 * Invariants:
 * 1. `reduceView` is pure and applies each event once; the view after
 *    events e1..en is the same however they were batched or reconnected.
 * 2. The view agrees with the server's projections of the same ledger:
 *    `status`/`runId`/`closed` with `GET .../status`, the non-empty
 *    `messages` with `GET .../messages` (same ids, roles and parts), `state`
 *    and `stateVersion` with `GET .../state`. Message ids are the server's.
 * 3. `model.completed` text is authoritative: it replaces the text streamed
 *    by the step's deltas, so a restarted step (`attempt` > 1) never shows
 *    its lost attempt twice.
 * 4. The switch is exhaustive over core's event kinds (a kind core adds is a
 *    type error here); at runtime, kinds from a newer server leave the view
 *    unchanged except for its offset.
 */
import {
  type AppEventKind,
  isAppEvent,
  type LedgerEvent,
  type MessagePart,
  type RunStatusAfter,
  type SessionStatus,
} from "./types.ts";

export type ViewPart = MessagePart;

export interface ViewMessage {
  /** The server's message id (`GET .../messages`). */
  readonly id: string;
  readonly runId: string | null;
  readonly role: "user" | "assistant" | "tool";
  /** Empty while a restarted step has not streamed again (the server omits such messages). */
  readonly parts: readonly ViewPart[];
  /** The seq of the event that created the message. */
  readonly seq: number;
}

export interface PendingApproval {
  readonly runId: string | null;
  readonly callId: string;
  readonly name: string;
  readonly args: unknown;
  /** A client-side tool's call: it waits for the client's output, not for an approval. */
  readonly client?: true;
}

/** A child session started by a tool call (a sub-agent); `done` once it answered. */
export interface SubagentView {
  readonly runId: string | null;
  readonly callId: string;
  readonly agent: string;
  readonly session: string;
  readonly done: boolean;
}

/** An application event (`app.<kind>`, declared with `defineEvent` on the server). */
export interface AppEventView {
  readonly kind: AppEventKind;
  /** Its payload, as the server's schema validated it. */
  readonly data: unknown;
  readonly runId: string | null;
  readonly seq: number;
  readonly offset: string;
}

export interface SessionView {
  readonly messages: readonly ViewMessage[];
  /** The status of the latest run; `idle` until the first run starts. */
  readonly status: SessionStatus;
  readonly runId: string | null;
  readonly pendingApprovals: readonly PendingApproval[];
  readonly subagents: readonly SubagentView[];
  /**
   * The application state as of the last `state.updated` (`null` before the first one: the
   * agent's `initialState`, if any, is in `session.state()`), and its version, which is the
   * `expectedVersion` for `setState`.
   */
  readonly state: unknown;
  readonly stateVersion: number;
  /** The session takes no more runs or events (`session.closed`). */
  readonly closed: boolean;
  /** The application's own events, oldest first. */
  readonly appEvents: readonly AppEventView[];
  /** The offset of the last event folded in: resume reading from here. */
  readonly offset: string;
}

export const EMPTY_VIEW: SessionView = {
  messages: [],
  status: "idle",
  runId: null,
  pendingApprovals: [],
  subagents: [],
  state: null,
  stateVersion: 0,
  closed: false,
  appEvents: [],
  offset: "-1",
};

/** Folds one event into the view. See the invariants above. */
export function reduceView(view: SessionView, event: LedgerEvent): SessionView {
  const next: SessionView = { ...view, offset: event.offset, ...runState(view, event) };
  switch (event.kind) {
    case "run.started":
      return addMessage(
        addPrior(next, event, event.data.input.messages),
        `m${event.seq}`,
        event,
        "user",
        [{ type: "text", text: event.data.input.message }, ...(event.data.input.files ?? [])],
      );
    case "run.resumed": {
      const { mode, message, checkpoint } = event.data;
      // Going back to a checkpoint drops what the run said after it (the ledger keeps it).
      const rewound: SessionView =
        checkpoint === undefined
          ? next
          : {
              ...next,
              messages: next.messages.filter((m) => m.runId !== event.runId || m.seq <= checkpoint),
              pendingApprovals: next.pendingApprovals.filter((a) => a.runId !== event.runId),
            };
      if (mode !== "with_message" && checkpoint === undefined) return rewound;
      const added = addPrior(rewound, event, event.data.messages);
      if (message === undefined) return added;
      return addMessage(added, `m${event.seq}`, event, "user", [{ type: "text", text: message }]);
    }
    case "step.started":
      // A step that starts again after a crash discards the partial answer of the lost attempt.
      if (event.data.attempt <= 1) return next;
      return updateMessage(next, stepId(event.runId, event.data.step, "a"), () => []);
    case "model.delta": {
      const id = stepId(event.runId, event.data.step, "a");
      if (!next.messages.some((m) => m.id === id))
        return addMessage(next, id, event, "assistant", [{ type: "text", text: event.data.text }]);
      return updateMessage(next, id, (parts) => prependText(parts, event.data.text));
    }
    case "model.completed": {
      const { step, text, toolCalls } = event.data;
      const parts: ViewPart[] = text === "" ? [] : [{ type: "text", text }];
      for (const call of toolCalls) parts.push({ type: "tool-call", ...call });
      const id = stepId(event.runId, step, "a");
      let out = next.messages.some((m) => m.id === id)
        ? updateMessage(next, id, () => parts)
        : parts.length > 0
          ? addMessage(next, id, event, "assistant", parts)
          : next;
      if (toolCalls.length > 0) {
        const pending: ViewPart[] = toolCalls.map((c) => ({
          type: "tool-result",
          callId: c.callId,
          name: c.name,
          status: "pending",
        }));
        out = addMessage(out, stepId(event.runId, step, "t"), event, "tool", pending);
      }
      return out;
    }
    case "tool.completed":
      return setResult(next, event, { status: "completed", result: event.data.result });
    case "tool.failed":
      return setResult(next, event, { status: "failed", error: event.data.error });
    case "tool.outcome_unknown":
      return setResult(next, event, { status: "outcome_unknown" });
    case "tool.started":
      return withoutApproval(next, event.data.callId);
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
            ...(event.data.client ? { client: true as const } : {}),
          },
        ],
      };
    case "approval.resolved": {
      const { args, callId, step } = event.data;
      const settled = withoutApproval(next, callId);
      if (args === undefined) return settled;
      // The conversation shows the arguments the human approved, not the ones the model proposed.
      return updateMessage(settled, stepId(event.runId, step, "a"), (parts) =>
        parts.map((p) => (p.type === "tool-call" && p.callId === callId ? { ...p, args } : p)),
      );
    }
    case "subagent.started":
      return {
        ...next,
        subagents: [
          ...next.subagents,
          {
            runId: event.runId,
            callId: event.data.callId,
            agent: event.data.agent,
            session: event.data.session,
            done: false,
          },
        ],
      };
    case "subagent.completed":
      return {
        ...next,
        subagents: next.subagents.map((s) =>
          s.callId === event.data.callId && s.runId === event.runId ? { ...s, done: true } : s,
        ),
      };
    case "state.updated":
      return { ...next, state: event.data.state, stateVersion: event.data.version };
    case "session.closed":
      return { ...next, closed: true };
    // Status only (runState), or facts a chat view does not show: the offset moves.
    case "run.interrupt_requested":
    case "run.waiting":
    case "run.completed":
    case "run.failed":
    case "run.interrupted":
    case "run.aborted":
    case "step.completed":
    case "workflow.started":
    case "trigger.failed":
    case "trigger.cancelled":
    case "usage.recorded":
    // Reasoning is not part of the conversation (the server's messages leave it out too).
    case "model.reasoning_delta":
    case "model.reasoning":
    case "mcp.tools_listed":
    // Compaction changes what the model is sent, never the conversation a client shows.
    case "context.compacted":
    case "context.summary_discarded":
      return next;
    default:
      // The application's events: one generic case for every `app.*` kind.
      if (isAppEvent(event))
        return {
          ...next,
          appEvents: [
            ...next.appEvents,
            {
              kind: event.kind,
              data: event.data,
              runId: event.runId,
              seq: event.seq,
              offset: event.offset,
            },
          ],
        };
      return unhandled(event, next);
  }
}

/** A kind from a newer server. Typed `never`: every kind of core must have its case above. */
function unhandled(_event: never, view: SessionView): SessionView {
  return view;
}

/** Core's rule (RUN_STATUS_AFTER), copied since the client imports no core code; the type
 * is core's exact table, so a change there that is not made here fails this build. */
const RUN_STATUS_TABLE: RunStatusAfter = {
  "run.started": "running",
  "run.resumed": "running",
  "run.waiting": "waiting",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.interrupted": "interrupted",
  "run.aborted": "aborted",
};
const RUN_STATUS: Partial<Record<LedgerEvent["kind"], SessionStatus>> = RUN_STATUS_TABLE;

/** Status follows the latest run (as `GET .../status` does); an ended run's approvals go. */
function runState(view: SessionView, event: LedgerEvent): Partial<SessionView> {
  const status = RUN_STATUS[event.kind];
  if (status === undefined) return {};
  if (event.kind !== "run.started" && event.runId !== view.runId) return {};
  const ended = status !== "running" && status !== "waiting";
  return {
    status,
    runId: event.runId,
    pendingApprovals: ended
      ? view.pendingApprovals.filter((a) => a.runId !== event.runId)
      : view.pendingApprovals,
  };
}

/** Messages a start or a resume handed in, before its own message (the server's ids `m<seq>.<i>`). */
function addPrior(
  view: SessionView,
  event: LedgerEvent,
  messages: readonly { role: "user" | "assistant"; content: string }[] | undefined,
): SessionView {
  let next = view;
  messages?.forEach((m, i) => {
    next = addMessage(next, `m${event.seq}.${i}`, event, m.role, [
      { type: "text", text: m.content },
    ]);
  });
  return next;
}

/** The server's id of a step's assistant (`a`) or tool-results (`t`) message. */
function stepId(runId: string | null, step: number, role: "a" | "t"): string {
  return `${runId}:${step}:${role}`;
}

function addMessage(
  view: SessionView,
  id: string,
  event: LedgerEvent,
  role: ViewMessage["role"],
  parts: readonly ViewPart[],
): SessionView {
  const message: ViewMessage = { id, runId: event.runId, role, parts, seq: event.seq };
  const index = view.messages.findLastIndex((m) => m.id === id);
  if (index === -1) return { ...view, messages: [...view.messages, message] };
  const messages = [...view.messages];
  messages[index] = message;
  return { ...view, messages };
}

function updateMessage(
  view: SessionView,
  id: string,
  update: (parts: readonly ViewPart[]) => readonly ViewPart[],
): SessionView {
  // Searched from the end: the message an event updates is almost always one of the last.
  const index = view.messages.findLastIndex((m) => m.id === id);
  if (index === -1) return view;
  const messages = [...view.messages];
  const current = messages[index] as ViewMessage;
  messages[index] = { ...current, parts: update(current.parts) };
  return { ...view, messages };
}

/** Streamed text goes into the message's first part (a restarted step's emptied message starts over). */
function prependText(parts: readonly ViewPart[], text: string): readonly ViewPart[] {
  const first = parts[0];
  if (first?.type === "text") return [{ type: "text", text: first.text + text }, ...parts.slice(1)];
  return [{ type: "text", text }, ...parts];
}

function setResult(
  view: SessionView,
  event: LedgerEvent<"tool.completed" | "tool.failed" | "tool.outcome_unknown">,
  patch: Partial<Extract<ViewPart, { type: "tool-result" }>>,
): SessionView {
  const settled = withoutApproval(view, event.data.callId);
  return updateMessage(settled, stepId(event.runId, event.data.step, "t"), (parts) =>
    parts.map((p) =>
      p.type === "tool-result" && p.callId === event.data.callId ? { ...p, ...patch } : p,
    ),
  );
}

function withoutApproval(view: SessionView, callId: string): SessionView {
  if (!view.pendingApprovals.some((a) => a.callId === callId)) return view;
  return { ...view, pendingApprovals: view.pendingApprovals.filter((a) => a.callId !== callId) };
}
