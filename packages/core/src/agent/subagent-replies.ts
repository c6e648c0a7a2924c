import type { ErrorInfo, LedgerEvent, ParentRef } from "../ledger/events.ts";
import type { Projection } from "../ledger/projection.ts";
import {
  getRun,
  latestRun,
  previousRun,
  type RunRecord,
  runWrittenBy,
  startsNewStep,
} from "../ledger/projections/runs.ts";
import { runUsage } from "../ledger/projections/usage-entries.ts";
import type { SqlPort } from "../sql/port.ts";
import { type ChildReply, sendLater } from "./subagents.ts";

/**
 * Delegation across session boundaries, as a projection: the messages that
 * settle what waits on a session commit with the event that ends it.
 *
 * Invariants:
 * 1. A child run that stops for good answers its parent's call, whatever the way:
 *    completed, failed or aborted (its own terminal event); interrupted and then
 *    closed (`session.closed`); interrupted and then replaced by a new run in the
 *    same session (`run.started`), after which it can never resume. The reply names
 *    the child's end.
 * 2. A reply carries the tokens of the child run that answered, never the child
 *    session's total (a child session answers every run of its parent that makes
 *    the same call id, so it holds several runs).
 * 3. A parent run that stops for good (aborted, failed, interrupted and then closed
 *    or replaced), is interrupted while it waits on them, or is resumed into a new step
 *    (with a message, from a checkpoint) while children still work on its calls sends each
 *    of them a cancel;
 *    the child aborts that run with a reason naming the parent (session-links.ts
 *    `cancelChild`). The parent's own calls fail in the same append (failed-calls.ts).
 */
export const subagentRepliesProjection: Projection = {
  name: "subagent_replies",
  version: 2,
  create: [
    "CREATE TABLE subagent_calls (run_id TEXT NOT NULL, step INTEGER NOT NULL, call_id TEXT NOT NULL, agent TEXT NOT NULL, session TEXT NOT NULL, PRIMARY KEY (run_id, step, call_id))",
  ],
  drop: ["DROP TABLE IF EXISTS subagent_calls"],
  apply(sql, event) {
    // Only for the events that end a run: this projection sees every event of a step. The
    // runs projection applied the event first and handed its row back (read only when it did
    // not, as in a rebuild of this projection alone).
    const ends =
      event.kind === "run.completed" || event.kind === "run.failed" || event.kind === "run.aborted";
    const run = ends ? runOf(sql, event) : undefined;
    switch (event.kind) {
      case "subagent.started":
        sql.exec(
          "INSERT OR REPLACE INTO subagent_calls (run_id, step, call_id, agent, session) VALUES (?, ?, ?, ?, ?)",
          event.runId,
          event.data.step,
          event.data.callId,
          event.data.agent,
          event.data.session,
        );
        return;
      case "subagent.completed":
        sql.exec(
          "DELETE FROM subagent_calls WHERE run_id = ? AND step = ? AND call_id = ?",
          event.runId,
          event.data.step,
          event.data.callId,
        );
        return;
      case "run.completed":
        if (run) forgetCalls(sql, run.runId);
        return replyToParent(sql, event, run, completedReply(event.data.output));
      case "run.failed":
        if (run) cancelChildren(sql, event, run, `failed (${event.data.error.code})`);
        return replyToParent(sql, event, run, failedReply("failed", event.data.error));
      case "run.aborted":
        if (run) cancelChildren(sql, event, run, `was aborted (${event.data.reason})`);
        return replyToParent(
          sql,
          event,
          run,
          failedReply("aborted", { code: "aborted", message: event.data.reason }),
        );
      case "run.interrupted": {
        // An interrupt during a wait failed the calls handed to sub-agents (failed-calls.ts
        // `interruptedRunEvents`; a Workflow's call stays open for a `continue`): the
        // sub-agents still working on them are cancelled.
        const interrupted = runOf(sql, event);
        if (interrupted)
          cancelChildren(sql, event, interrupted, `was interrupted (${event.data.reason})`);
        return;
      }
      case "run.resumed": {
        // A resume that starts a new step failed the calls still delegated (run-control.ts
        // `resumed`, code `superseded`): the sub-agents still working on them are cancelled.
        if (!startsNewStep(event.data.mode)) return;
        const resumed = runOf(sql, event);
        if (resumed)
          cancelChildren(sql, event, resumed, `was resumed past the call (${event.data.mode})`);
        return;
      }
      case "run.started": {
        // The run before this one can never resume now: if it was interrupted, it ends here.
        const before = event.runId ? previousRun(sql, event.runId) : undefined;
        if (before?.status !== "interrupted") return;
        cancelChildren(sql, event, before, `was interrupted and replaced by run ${event.runId}`);
        return replyToParent(
          sql,
          event,
          before,
          failedReply("failed", {
            code: "subagent_superseded",
            message: `the ${before.agent} sub-agent's run ${before.runId} was interrupted and then replaced by run ${event.runId} in its session; it will not answer`,
          }),
        );
      }
      case "session.closed": {
        const last = latestRun(sql);
        if (last?.status !== "interrupted") return;
        cancelChildren(
          sql,
          event,
          last,
          `was interrupted and its session closed (${event.data.reason})`,
        );
        return replyToParent(
          sql,
          event,
          last,
          failedReply("failed", {
            code: "subagent_closed",
            message: `the ${last.agent} sub-agent's session was closed (${event.data.reason}) while its run ${last.runId} was interrupted; it will not answer`,
          }),
        );
      }
      default:
        return;
    }
  },
};

/** The run of `event` as the event left it: the row the runs projection wrote, or read. */
function runOf(sql: SqlPort, event: LedgerEvent): RunRecord | undefined {
  if (event.runId === null) return undefined;
  return runWrittenBy(event) ?? getRun(sql, event.runId);
}

type ReplyBody = Pick<ChildReply, "status" | "output" | "error">;

const completedReply = (output: ChildReply["output"]): ReplyBody => ({
  status: "completed",
  output,
  error: null,
});

const failedReply = (status: "failed" | "aborted", error: ErrorInfo): ReplyBody => ({
  status,
  output: null,
  error,
});

/** The child's side (invariants 1, 2). The messenger fills in the child's session id. */
function replyToParent(
  sql: SqlPort,
  event: LedgerEvent,
  run: RunRecord | undefined,
  body: ReplyBody,
): void {
  if (!run?.parent) return;
  const reply: ChildReply = {
    type: "reply",
    parent: run.parent,
    child: { agent: run.agent, session: "" },
    ...body,
    usage: runUsage(sql, run),
  };
  sendLater(sql, `reply:${run.runId}`, reply, event.ts);
}

/** The parent's side (invariant 3): cancels go to every child still working on this run. */
function cancelChildren(sql: SqlPort, event: LedgerEvent, run: RunRecord, ended: string): void {
  const open = sql.exec<{ step: number; call_id: string; agent: string; session: string }>(
    "SELECT step, call_id, agent, session FROM subagent_calls WHERE run_id = ?",
    run.runId,
  );
  for (const call of open) {
    const parent: ParentRef = {
      agent: run.agent,
      session: "",
      runId: run.runId,
      step: call.step,
      callId: call.call_id,
    };
    sendLater(
      sql,
      `cancel:${run.runId}:${call.step}:${call.call_id}`,
      {
        type: "cancel",
        agent: call.agent,
        session: call.session,
        parent,
        reason: `its parent ${run.agent} run ${run.runId} ${ended}`,
      },
      event.ts,
    );
  }
  forgetCalls(sql, run.runId);
}

/** Whether the call (delegated) was handed to a sub-agent that still works on it. */
export function isSubagentCall(
  sql: SqlPort,
  call: { readonly runId: string; readonly step: number; readonly callId: string },
): boolean {
  return (
    sql.exec(
      "SELECT 1 FROM subagent_calls WHERE run_id = ? AND step = ? AND call_id = ?",
      call.runId,
      call.step,
      call.callId,
    ).length > 0
  );
}

function forgetCalls(sql: SqlPort, runId: string): void {
  sql.exec("DELETE FROM subagent_calls WHERE run_id = ?", runId);
}
