import type { Clock } from "../clock.ts";
import type { ErrorInfo, JsonValue, NewEvent, ParentRef, TokenUsage } from "../ledger/events.ts";
import type { Projection } from "../ledger/projection.ts";
import { getRun } from "../ledger/projections/runs.ts";
import { stepToolCalls, type ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { childSessionId, type Delegation } from "./define-subagent.ts";
import { SUBAGENT_SEND_KIND, scheduleRuntimeWork } from "./runtime-work.ts";

/**
 * Sub-agents: DO-to-DO messages through an outbox.
 *
 * Invariants:
 * 1. A message to another session is a due-work row of kind `subagent.send`,
 *    written in the same transaction as the event that caused it
 *    (subagent.started in the parent; the child run's terminal event).
 * 2. Delivery is at least once: a transient failure retries with backoff and
 *    never gives up. A permanent refusal (e.g. no such agent) ends the
 *    parent's call as tool.failed instead of waiting forever.
 * 3. Receipt is idempotent: the child starts at most one run per parent call;
 *    the parent records a reply only while the call is still delegated.
 */
export { SUBAGENT_SEND_KIND };

export interface StartChild {
  readonly type: "start";
  readonly agent: string;
  readonly session: string;
  readonly message: string;
  readonly parent: ParentRef;
}

export interface ChildReply {
  readonly type: "reply";
  readonly parent: ParentRef;
  readonly child: { readonly agent: string; readonly session: string };
  readonly status: "completed" | "failed" | "aborted";
  readonly output: JsonValue;
  readonly error: ErrorInfo | null;
  readonly usage: TokenUsage;
}

export type SubagentMessage = StartChild | ChildReply;

/** The transport to other sessions. Resolves to a refusal for permanent errors; throws for transient ones. */
export interface SubagentPort {
  send(message: SubagentMessage): Promise<ErrorInfo | undefined>;
}

export function sendLater(sql: SqlPort, key: string, message: SubagentMessage, now: number): void {
  scheduleRuntimeWork(sql, SUBAGENT_SEND_KIND, `subagent:${key}`, message, now, now);
}

/** In a child session: when a run with a parent ends, the reply goes to the outbox with that event. */
export const subagentReplyProjection: Projection = {
  name: "subagent_replies",
  version: 1,
  create: [],
  drop: [],
  apply(sql, event) {
    if (
      event.kind !== "run.completed" &&
      event.kind !== "run.failed" &&
      event.kind !== "run.aborted"
    )
      return;
    const run = event.runId ? getRun(sql, event.runId) : undefined;
    if (!run?.parent) return;
    const usage = sql.exec<{ i: number | null; o: number | null }>(
      "SELECT sum(input_tokens) AS i, sum(output_tokens) AS o FROM usage_models",
    )[0];
    const reply: ChildReply = {
      type: "reply",
      parent: run.parent,
      child: { agent: run.agent, session: "" },
      status:
        event.kind === "run.completed"
          ? "completed"
          : event.kind === "run.failed"
            ? "failed"
            : "aborted",
      output: event.kind === "run.completed" ? event.data.output : null,
      error:
        event.kind === "run.failed"
          ? event.data.error
          : event.kind === "run.aborted"
            ? { code: "aborted", message: event.data.reason }
            : null,
      usage: { inputTokens: usage?.i ?? 0, outputTokens: usage?.o ?? 0 },
    };
    sendLater(sql, `reply:${run.runId}`, reply, event.ts);
  },
};

/** Delivers `subagent.send` rows. */
export class SubagentMessenger implements TriggerHandler<SubagentMessage> {
  readonly #port: SubagentPort | undefined;
  readonly #onRefused: (message: SubagentMessage, error: ErrorInfo) => void;
  readonly #clock: Clock;

  constructor(
    port: SubagentPort | undefined,
    clock: Clock,
    onRefused: (message: SubagentMessage, error: ErrorInfo) => void,
  ) {
    this.#port = port;
    this.#clock = clock;
    this.#onRefused = onRefused;
  }

  async run(message: SubagentMessage): Promise<TriggerOutcome> {
    if (!this.#port) {
      this.#onRefused(message, {
        code: "subagents_unavailable",
        message: "this server has no route to other sessions",
      });
      return { type: "done" };
    }
    const refused = await this.#port.send(message);
    if (refused) this.#onRefused(message, refused);
    return { type: "done" };
  }

  /** Transient failures never end delivery: back off and try again (at most every 5 minutes). */
  giveUp(_message: SubagentMessage, _error: unknown, item: { attempts: number }): number {
    return this.#clock.now() + Math.min(300_000, 1000 * 2 ** Math.min(item.attempts, 8));
  }
}

/** The parent's side of a reply: idempotent. Returns the events to append (none for a duplicate). */
export function replyEvents(sql: SqlPort, reply: ChildReply, childSession: string): NewEvent[] {
  const { parent } = reply;
  const call = stepToolCalls(sql, parent.runId, parent.step).find(
    (c) => c.callId === parent.callId,
  );
  if (call?.status !== "delegated") return [];
  const base = { step: parent.step, callId: parent.callId };
  const events: NewEvent[] = [
    {
      kind: "subagent.completed",
      runId: parent.runId,
      data: {
        ...base,
        agent: reply.child.agent,
        session: childSession,
        output: reply.output,
        usage: reply.usage,
      },
    },
    reply.status === "completed"
      ? {
          kind: "tool.completed",
          runId: parent.runId,
          data: { ...base, name: call.name, result: reply.output },
        }
      : {
          kind: "tool.failed",
          runId: parent.runId,
          data: {
            ...base,
            name: call.name,
            error: reply.error ?? {
              code: "subagent_failed",
              message: `the ${reply.child.agent} sub-agent ${reply.status}`,
            },
          },
        },
  ];
  return events;
}

/** A refused start ends the parent's call as failed, so the parent does not wait forever. */
export function refusedStartEvents(
  sql: SqlPort,
  message: StartChild,
  error: ErrorInfo,
): NewEvent[] {
  const { parent } = message;
  const call = stepToolCalls(sql, parent.runId, parent.step).find(
    (c) => c.callId === parent.callId,
  );
  if (call?.status !== "delegated") return [];
  return [
    {
      kind: "tool.failed",
      runId: parent.runId,
      data: { step: parent.step, callId: parent.callId, name: call.name, error },
    },
  ];
}

/** The `subagent.started` event and the start message for a delegated call. */
export function handoff(
  agent: AgentDefinition,
  sessionId: string,
  runId: string,
  call: ToolCallRecord,
  delegation: Delegation,
): { event: NewEvent<"subagent.started">; message: StartChild } {
  const session = childSessionId(sessionId, call.callId);
  const parsed = agent.tools.find((t) => t.name === call.name)?.input.safeParse(call.args);
  const message = delegation.message(parsed?.success ? parsed.data : call.args);
  const parent = {
    agent: agent.name,
    session: sessionId,
    runId,
    step: call.step,
    callId: call.callId,
  };
  return {
    event: {
      kind: "subagent.started",
      runId,
      data: { step: call.step, callId: call.callId, agent: delegation.agent, session },
    },
    message: { type: "start", agent: delegation.agent, session, message, parent },
  };
}
