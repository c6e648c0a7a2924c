import { BadRequestError, ConflictError } from "../errors/http-errors.ts";
import type { NewEvent, ParentRef } from "../ledger/events.ts";
import { latestRun } from "../ledger/projections/runs.ts";
import { isWaitingForClient } from "../ledger/wait-reasons.ts";
import type { SqlPort } from "../sql/port.ts";
import type { RunTrace } from "../tracing/trace-sink.ts";
import type { AppState } from "./app-state.ts";
import type { AgentDefinition, RunExecutor } from "./define-agent.ts";
import { abortedRunEvents, failDelegated } from "./failed-calls.ts";
import { toolChoiceProblem } from "./model-options.ts";
import { toPriorMessages } from "./prior-messages.ts";
import { RUN_WAITS_FOR_CLIENT, RunActiveError } from "./run-errors.ts";
import { ACTIVE, type StartInput } from "./session-runtime-options.ts";
import { toUserFiles } from "./user-files.ts";
import type { AgentWorkflowPort } from "./workflow-run/protocol.ts";
import { startRefused, workflowsUnavailable } from "./workflow-run/unavailable.ts";

/** What a start is decided over. */
export interface StartContext {
  readonly sql: SqlPort;
  readonly sessionId: string;
  readonly agent: AgentDefinition;
  readonly agentWorkflows: AgentWorkflowPort | undefined;
  readonly state: AppState;
  readonly newId: () => string;
  /** The run's trace context, when the server traces runs. */
  readonly trace: (() => RunTrace) | undefined;
}

/** A start the runtime commits: the events of one append, and what schedules the run. */
export interface StartDecision {
  readonly runId: string;
  readonly executor: RunExecutor;
  /**
   * The replaced run, still running or waiting, that this append aborts (`run.aborted`): the
   * runtime drops its step rows in the append and signals its tools in flight after it.
   */
  readonly aborts?: string;
  /**
   * The replaced run's delegated calls failed and, if it was still going, its `run.aborted`;
   * the state seed; then `run.started`.
   */
  readonly events: NewEvent[];
}

/**
 * A start's decision (`SessionRuntime.start`), before anything is written. Refused with 400
 * `invalid_request` (a `modelOptions.toolChoice` the agent cannot take), `workflows_unavailable`
 * (startRefused), 409 `RunActiveError` (a run holds the session and the start does not replace
 * it), 409 `not_latest_run` (`replaces` is not the latest run) or 400 for a state seed that does
 * not fit the stateSchema. A start that `replaces` the latest run, or `ends` it, while it is
 * still running or waiting aborts it in the same append: either the old run ends and the new
 * one starts, or (any refusal) neither. `ends` naming a run no longer active changes nothing.
 */
export function decideStart(
  c: StartContext,
  input: StartInput,
  parent: ParentRef | undefined,
): StartDecision {
  const { agent, sessionId } = c;
  const choice = toolChoiceProblem(
    input.modelOptions?.toolChoice,
    agent.tools.map((t) => t.name),
    (agent.mcp ?? []).length > 0,
  );
  if (choice)
    throw new BadRequestError("invalid_request", `modelOptions.${choice} (agent "${agent.name}")`);
  const executor = input.executor ?? agent.executor ?? "alarm";
  const unavailable = executor === "workflow" ? workflowsUnavailable(c.agentWorkflows) : undefined;
  if (unavailable) throw startRefused(unavailable, input.executor !== undefined);
  if (input.replaces !== undefined && input.ends !== undefined && input.ends.run !== input.replaces)
    throw new BadRequestError(
      "invalid_request",
      `ends names run ${input.ends.run.slice(0, 64)} but replaces names run ${input.replaces.slice(0, 64)}: a start ends the run it replaces; send one of them, or the same run in both`,
    );
  const current = latestRun(c.sql);
  if (input.replaces !== undefined && input.replaces !== current?.runId)
    throw new ConflictError(
      "not_latest_run",
      `only the latest answer can be regenerated; run ${input.replaces.slice(0, 64)} is not the latest run of session ${sessionId} (${current?.runId ?? "none"} is)`,
      { details: { latestRunId: current?.runId ?? null } },
    );
  const active = current !== undefined && ACTIVE.has(current.status);
  const ends = input.replaces !== undefined || input.ends?.run === current?.runId;
  if (active && !ends)
    throw new RunActiveError(
      sessionId,
      current.runId,
      current.status,
      ...(isWaitingForClient(current) ? [RUN_WAITS_FOR_CLIENT] : []),
    );
  // Checked before anything is decided: a bad seed changes nothing.
  const seed = input.state === undefined ? [] : [c.state.check(input.state, { source: "client" })];
  const runId = c.newId();
  // An interrupted run can never resume once another starts: its delegated calls end here.
  const superseded =
    current?.status === "interrupted"
      ? failDelegated(c.sql, current.runId, {
          code: "superseded",
          message: `run ${current.runId} was interrupted and then replaced by run ${runId} before the call answered`,
        })
      : active
        ? abortedRunEvents(
            c.sql,
            current.runId,
            input.ends?.reason ??
              (input.replaces !== undefined ? replacedReason(runId) : endedReason(runId)),
          )
        : [];
  const started: NewEvent<"run.started"> = {
    kind: "run.started",
    runId,
    data: {
      agent: agent.name,
      input: {
        message: input.message,
        ...(input.files?.length ? { files: toUserFiles(input.files) } : {}),
        ...(input.messages?.length ? { messages: toPriorMessages(input.messages) } : {}),
      },
      ...(input.modelOptions ? { modelOptions: input.modelOptions } : {}),
      ...(executor === "workflow" ? { executor } : {}),
      ...(input.metadata ? { metadata: { ...input.metadata } } : {}),
      ...(parent ? { parent } : {}),
      ...(input.replaces !== undefined ? { replaces: input.replaces } : {}),
      ...(c.trace ? { trace: c.trace() } : {}),
    },
  };
  // The seed is a client write between runs, so the run's start checkpoint includes it.
  const seeded = seed.map((value) => c.state.event(null, value, { source: "client" }));
  return {
    runId,
    executor,
    ...(active ? { aborts: current.runId } : {}),
    events: [...superseded, ...seeded, started],
  };
}

const replacedReason = (runId: string) =>
  `replaced: run ${runId} answers its turn again (a regenerate or an edit)`;
const endedReason = (runId: string) => `ended: run ${runId} started after it`;
