import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors/http-errors.ts";
import type { LedgerEvent, NewEvent, ParentRef } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { getCheckpoint } from "../ledger/projections/checkpoints.ts";
import { getRun, latestRun } from "../ledger/projections/runs.ts";
import { delegatedCalls } from "../ledger/projections/tool-calls.ts";
import { waitsOnDelegates } from "../ledger/wait-reasons.ts";
import type { SqlPort } from "../sql/port.ts";
import { failDelegated } from "./failed-calls.ts";
import { ABORTABLE, ACTIVE } from "./session-runtime-options.ts";
import {
  type CancelChild,
  type ChildReply,
  refusedStartEvents,
  replyEvents,
  type StartChild,
  SUBAGENT_SEND_KIND,
  SubagentMessenger,
  type SubagentPort,
  sameCall,
} from "./subagents.ts";

/**
 * How a session relates to other sessions: forks (a copied ledger prefix) and
 * sub-agents (child sessions answering a parent's calls). Split out of the
 * runtime; every function works through this narrow context.
 */
export interface LinkContext {
  readonly sql: SqlPort;
  readonly ledger: Ledger;
  readonly sessionId: string;
  readonly agent: string;
  start(
    message: string,
    parent: ParentRef,
    trace?: { readonly traceId: string; readonly spanId: string },
  ): Promise<unknown>;
  /** Aborts the session's latest run (running, waiting or interrupted). */
  abort(reason: string): Promise<unknown>;
  /** Appends control events, scheduling the run if they resume it. */
  commit(events: NewEvent[]): Promise<unknown>;
}

/** The ledger up to a checkpoint. 404 for an unknown checkpoint. */
export function forkPrefix(ctx: LinkContext, checkpointId: string): LedgerEvent[] {
  const checkpoint = /^\d{1,15}$/.test(checkpointId)
    ? getCheckpoint(ctx.sql, Number(checkpointId))
    : undefined;
  if (!checkpoint) {
    throw new NotFoundError(
      "unknown_checkpoint",
      `session ${ctx.sessionId} has no checkpoint "${checkpointId.slice(0, 40)}"; list them with GET .../checkpoints`,
    );
  }
  const events: LedgerEvent[] = [];
  while (events.length < checkpoint.seq) {
    const batch = ctx.ledger.read(events.length, Math.min(1000, checkpoint.seq - events.length));
    if (batch.length === 0) break;
    events.push(...batch);
  }
  return events;
}

/**
 * Makes an empty session a fork: the copied prefix, then — if a run was active
 * at that point — `run.interrupted`, so the fork's owner decides when it
 * continues; one append, so both are stored or neither. Effects in the fork get new idempotency keys (new session id).
 * A fork is nobody's child (copied runs lose their parent, so the fork never
 * answers the original's parent), and calls the original had delegated fail in
 * the fork: their answers go to the original session, never to the fork.
 */
export function importFork(ctx: LinkContext, events: readonly LedgerEvent[], reason: string): void {
  if (ctx.ledger.tail > 0) {
    throw new ConflictError(
      "session_exists",
      `session ${ctx.sessionId} already has a ledger; fork into a new session id`,
    );
  }
  // One append: a prefix stored without its run.interrupted would leave a run "running"
  // that nothing drives, and the session, no longer empty, could not be forked into again.
  ctx.ledger.appendThen(events.map(copiedEvent), () => {
    const run = latestRun(ctx.sql);
    if (!run || !ACTIVE.has(run.status)) return [];
    const orphaned = failDelegated(ctx.sql, run.runId, {
      code: "delegation_not_forked",
      message:
        "this call was delegated by the session this fork was copied from, and its answer goes there; resume the fork to let the model call it again",
    });
    return [...orphaned, { kind: "run.interrupted", runId: run.runId, data: { reason } }];
  });
}

function copiedEvent({ kind, runId, data, ts }: LedgerEvent): NewEvent {
  if (kind === "run.started" && data.parent) {
    const { parent: _parent, ...rest } = data;
    return { kind, runId, data: rest, ts };
  }
  return { kind, runId, data, ts } as NewEvent;
}

/**
 * A parent asks this session to answer one of its calls. A redelivered request (same
 * identity: run, step and call id) is a no-op; a new identity (a retried or resumed
 * parent, which reuses call ids) starts a new run. A run of this session still working
 * for an older call of the same parent session is superseded: aborted, so it answers
 * that call, and the new one starts.
 */
export async function startChild(ctx: LinkContext, message: StartChild): Promise<void> {
  const { parent } = message;
  const known = ctx.sql.exec<{ n: number }>(
    "SELECT count(*) AS n FROM runs WHERE parent IS NOT NULL AND json_extract(parent, '$.runId') = ? AND json_extract(parent, '$.step') = ? AND json_extract(parent, '$.callId') = ? AND json_extract(parent, '$.session') = ?",
    parent.runId,
    parent.step,
    parent.callId,
    parent.session,
  )[0];
  if ((known?.n ?? 0) > 0) return;
  const current = latestRun(ctx.sql);
  if (
    current &&
    ACTIVE.has(current.status) &&
    current.parent?.session === parent.session &&
    current.parent.agent === parent.agent
  ) {
    await ctx.abort(
      `superseded: its parent ${parent.agent} sent call ${parent.callId} again (run ${parent.runId}, step ${parent.step})`,
    );
  }
  await ctx.start(message.message, parent, message.trace);
}

/**
 * The parent's run ended before this session answered its call: the run working on
 * that call (same identity) is aborted with the parent's reason. Anything else (a
 * redelivery, a run already finished, another call's run) is left alone.
 */
export async function cancelChild(ctx: LinkContext, message: CancelChild): Promise<void> {
  const run = latestRun(ctx.sql);
  if (!run?.parent || !sameCall(run.parent, message.parent)) return;
  if (!ABORTABLE.has(run.status)) return;
  await ctx.abort(message.reason);
}

/** A child answered one of this session's calls; a duplicate is ignored. */
export async function receiveReply(ctx: LinkContext, reply: ChildReply): Promise<void> {
  const events = replyEvents(ctx.sql, reply, reply.child.session);
  if (events.length > 0) await settleDelegated(ctx, reply.parent, events);
}

/**
 * Records the end of a delegated call; a waiting run resumes when it waits on no other
 * delegated call, of any step.
 */
export async function settleDelegated(
  ctx: LinkContext,
  parent: Pick<ParentRef, "runId" | "step" | "callId">,
  events: NewEvent[],
): Promise<void> {
  const run = getRun(ctx.sql, parent.runId);
  const left = delegatedCalls(ctx.sql, parent.runId).filter(
    (c) => c.step !== parent.step || c.callId !== parent.callId,
  );
  if (run?.status === "waiting" && waitsOnDelegates(run.waitingReason) && left.length === 0) {
    events.push({ kind: "run.resumed", runId: parent.runId, data: { mode: "continue" } });
  }
  await ctx.commit(events);
}

/** The `subagent.send` handler: replies name this session as the child; refusals become facts. */
export function subagentMessenger(
  ctx: LinkContext,
  clock: Clock,
  port: SubagentPort | undefined,
): SubagentMessenger {
  const send: SubagentPort | undefined = port && {
    send: (message) =>
      port.send(
        message.type === "reply"
          ? { ...message, child: { agent: ctx.agent, session: ctx.sessionId } }
          : message.type === "cancel"
            ? { ...message, parent: { ...message.parent, session: ctx.sessionId } }
            : message,
      ),
  };
  return new SubagentMessenger(send, clock, (message, error) => {
    if (message.type === "start") {
      const events = refusedStartEvents(ctx.sql, message, error);
      if (events.length > 0) void settleDelegated(ctx, message.parent, events);
      return;
    }
    // A cancel to an agent that is gone has nothing to cancel.
    if (message.type === "cancel") return;
    ctx.ledger.append([
      {
        kind: "trigger.failed",
        runId: null,
        data: { kind: SUBAGENT_SEND_KIND, key: message.parent.callId, attempts: 1, error },
      },
    ]);
  });
}
