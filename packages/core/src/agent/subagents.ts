import type { Clock } from "../clock.ts";
import type { ErrorInfo, JsonValue, NewEvent, ParentRef, TokenUsage } from "../ledger/events.ts";
import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import type { TriggerHandler, TriggerOutcome } from "../triggers/pump.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { childSessionId, type Delegation } from "./define-subagent.ts";
import { SUBAGENT_SEND_KIND, scheduleRuntimeWork } from "./runtime-work.ts";
import { parseToolInput } from "./tool-schema.ts";
import { pendingCall } from "./workflow-calls.ts";

/**
 * Sub-agents: DO-to-DO messages through an outbox.
 *
 * Invariants:
 * 1. A message to another session is a due-work row of kind `subagent.send`,
 *    written in the same transaction as the event that caused it
 *    (subagent.started in the parent; the child run's end; the parent run's end).
 * 2. Delivery is at least once: a transient failure retries with backoff and
 *    never gives up. A permanent refusal (e.g. no such agent) ends the
 *    parent's call as tool.failed instead of waiting forever.
 * 3. A delegated call's identity is the parent's (agent, session, run, step, call id).
 *    Step numbers never repeat within a run (a retry or a resume from a checkpoint
 *    starts a new step; a lost model attempt records no calls), and a fork is a new
 *    session, so each of those is a new identity; a redelivery of the same message
 *    is the same identity and is absorbed: the child starts at most one run per
 *    identity, and the parent records a reply only while that call still waits.
 * 4. Every way a child run stops for good answers its parent (subagent-replies.ts);
 *    every way a parent run stops for good cancels its children's pending work.
 */
export { SUBAGENT_SEND_KIND };

export interface StartChild {
  readonly type: "start";
  readonly agent: string;
  readonly session: string;
  readonly message: string;
  readonly parent: ParentRef;
  /** The parent's step span, when the parent traces its runs: the child's run joins its trace. */
  readonly trace?: { readonly traceId: string; readonly spanId: string };
}

export interface ChildReply {
  readonly type: "reply";
  readonly parent: ParentRef;
  readonly child: { readonly agent: string; readonly session: string };
  readonly status: "completed" | "failed" | "aborted";
  readonly output: JsonValue;
  readonly error: ErrorInfo | null;
  /** The tokens of the child run that answered (never the child session's running total). */
  readonly usage: TokenUsage;
}

/** The parent's run ended before the child answered: the child's run for that call is aborted. */
export interface CancelChild {
  readonly type: "cancel";
  readonly agent: string;
  readonly session: string;
  readonly parent: ParentRef;
  readonly reason: string;
}

export type SubagentMessage = StartChild | ChildReply | CancelChild;

/** The transport to other sessions. Resolves to a refusal for permanent errors; throws for transient ones. */
export interface SubagentPort {
  send(message: SubagentMessage): Promise<ErrorInfo | undefined>;
}

export function sendLater(sql: SqlPort, key: string, message: SubagentMessage, now: number): void {
  scheduleRuntimeWork(sql, SUBAGENT_SEND_KIND, `subagent:${key}`, message, now, now);
}

/** Whether two references name the same delegated call (all five parts). */
export function sameCall(a: ParentRef, b: ParentRef): boolean {
  return (
    a.agent === b.agent &&
    a.session === b.session &&
    a.runId === b.runId &&
    a.step === b.step &&
    a.callId === b.callId
  );
}

/** The outbox key of a delegated call's start message: one per identity (invariant 3). */
export function startKey(parent: ParentRef): string {
  return `start:${parent.runId}:${parent.step}:${parent.callId}`;
}

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
  const call = pendingCall(sql, parent);
  if (!call) return [];
  const base = { step: parent.step, callId: parent.callId };
  return [
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
}

/** A refused start ends the parent's call as failed, so the parent does not wait forever. */
export function refusedStartEvents(
  sql: SqlPort,
  message: StartChild,
  error: ErrorInfo,
): NewEvent[] {
  const { parent } = message;
  const call = pendingCall(sql, parent);
  if (!call) return [];
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
  trace?: { readonly traceId: string; readonly spanId: string },
): { event: NewEvent<"subagent.started">; message: StartChild } {
  const session = childSessionId(sessionId, call.callId);
  const tool = agent.tools.find((t) => t.name === call.name);
  const parsed = tool && parseToolInput(tool.name, tool.input, call.args);
  const ready = parsed && !(parsed instanceof Promise) && parsed.success;
  const message = delegation.message(ready ? parsed.value : call.args);
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
    message: {
      type: "start",
      agent: delegation.agent,
      session,
      message,
      parent,
      ...(trace ? { trace } : {}),
    },
  };
}
