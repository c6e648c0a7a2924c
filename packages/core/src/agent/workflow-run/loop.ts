import { DurableAgentsError } from "../../errors/base.ts";
import type { ErrorInfo } from "../../ledger/events.ts";
import type { ToolWorkflowOutcome, ToolWorkflowParams } from "../workflow-calls.ts";
import { WAKE_EVENT, type WorkflowRunSession } from "./protocol.ts";

/** A step's retry policy, as Workflows' `WorkflowStepConfig.retries` states it. */
export interface StepRetries {
  readonly limit: number;
  readonly delayMs: number;
  readonly backoff: "constant" | "linear" | "exponential";
}

/**
 * The part of Workflows' `WorkflowStep` the loop uses. A step's result is cached by its
 * name (and how many times that name was used before in this execution), so a replay of
 * the loop returns it without running the step again; a step that throws is retried by
 * its `retries`, and throws once they are spent.
 */
export interface StepRunner {
  do<T>(name: string, retries: StepRetries, run: () => Promise<T>): Promise<T>;
  /** Resolves when an event of `type` arrives; throws when `timeoutMs` passes first. */
  waitForEvent(name: string, type: string, timeoutMs: number): Promise<void>;
}

export interface AgentWorkflowLoopOptions {
  /**
   * Retries of a model step. Each retry is a new attempt of the step in the ledger
   * (`step.started` attempt + 1), so the run's `maxModelAttempts` (default 5) fails the run
   * before these are spent. Default 8, exponential from 1 s.
   */
  readonly modelRetries?: StepRetries;
  /** Retries of a tool step (a lost report, the session object restarting). Default 8. */
  readonly toolRetries?: StepRetries;
  /** How long a parked wait lasts before the loop asks the session again. Default 1 hour. */
  readonly waitTimeoutMs?: number;
}

/** Executes an `executor: "workflow"` tool's call inside the run's Workflow step. */
export type ExecuteWorkflowTool = (call: ToolWorkflowParams) => Promise<ToolWorkflowOutcome>;

export const DEFAULT_STEP_RETRIES: StepRetries = {
  limit: 8,
  delayMs: 1_000,
  backoff: "exponential",
};
export const DEFAULT_WAIT_TIMEOUT_MS = 60 * 60_000;

/**
 * A whole run on the Workflow executor: ask the session what is next, perform it as a
 * durable step, repeat. The session decides with the same step machine as the alarm driver
 * (`RunDriver.decide`), and every commit is idempotent by step, so the loop may be replayed
 * from the top at any point (an instance restarted, a step retried, a report lost).
 *
 * Invariants:
 * 1. `decide` is never a step: it is read fresh on every replay, so a replay follows the
 *    ledger, not a cached past.
 * 2. Step names say what a step performs: `model <step>`, `tool <step> <callId>` (step numbers
 *    keep growing across resumes and retries) and `wait <seq>` (the event the run waits since).
 *    A name can come again (a step decided again after an interrupt before it started):
 *    Workflows then caches it under its next count. Every step is idempotent and a cached
 *    result only means "done: decide again", so a replay that skips a name stays correct.
 * 3. A step whose retries are spent fails the run (`giveUp`), never leaves it running.
 * Returns the run's end status: the instance's output.
 */
export async function runAgentWorkflow(
  session: WorkflowRunSession,
  steps: StepRunner,
  executeTool: ExecuteWorkflowTool,
  options: AgentWorkflowLoopOptions = {},
): Promise<{ readonly status: string }> {
  const modelRetries = options.modelRetries ?? DEFAULT_STEP_RETRIES;
  const toolRetries = options.toolRetries ?? DEFAULT_STEP_RETRIES;
  const waitMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  for (;;) {
    const next = await retrying(() => session.decide());
    switch (next.type) {
      case "end":
        return { status: next.status };
      case "wait":
        try {
          await steps.waitForEvent(`wait ${next.seq}`, WAKE_EVENT, waitMs);
        } catch (error) {
          // A timeout only means: ask again. Anything else (the instance stopping) goes up.
          if (!isTimeout(error)) throw error;
        }
        break;
      case "model":
        await steps
          .do(`model ${next.step}`, modelRetries, async () => {
            await session.performModel(next.step);
            return next.step;
          })
          .catch((error: unknown) => session.giveUp(spent(`model ${next.step}`, error)));
        break;
      case "tools":
        await Promise.all(
          next.calls.map(async ({ callId }) => {
            const name = `tool ${next.step} ${callId}`;
            try {
              // An inline tool runs and commits in the session object; a workflow tool runs
              // here, in this step, and its outcome (the step's cached result) is committed after.
              const outcome = await steps.do(name, toolRetries, async () => {
                const call = await session.performTool(next.step, callId);
                return call ? await executeTool(call) : null;
              });
              if (outcome) await retrying(() => session.commitTool(next.step, callId, outcome));
            } catch (error) {
              await session.giveUp(spent(name, error));
            }
          }),
        );
        break;
    }
  }
}

/**
 * `decide` and a workflow tool's commit are not steps (a decision must read the ledger fresh),
 * so Workflows does not retry them: a session object that is restarting answers after a few
 * tries, 100 ms apart and doubling.
 */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= DECIDE_RETRIES || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

const DECIDE_RETRIES = 6;

/**
 * A refusal (no such session or run: a non-retryable DurableAgentsError, or the Workflows
 * `NonRetryableError` the Cloudflare adapter throws for one) is permanent; anything else (an
 * object being reset) may pass.
 */
function isTransient(error: unknown): boolean {
  if (error instanceof DurableAgentsError) return error.retryable;
  return !(error instanceof Error && error.name === "NonRetryableError");
}

/** A `waitForEvent` that ran out of time (Workflows throws an error whose name or message says so). */
function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return /timeout|timed out/i.test(`${error.name} ${error.message}`);
}

function spent(step: string, error: unknown): ErrorInfo {
  const code = error instanceof DurableAgentsError ? error.code : "workflow_step_failed";
  const message = error instanceof Error ? error.message : String(error);
  return {
    code,
    message: `the Workflow step "${step}" failed after its retries: ${message}`,
  };
}
