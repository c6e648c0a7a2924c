import type { ToolWorkflowOutcome, ToolWorkflowStatus } from "../agent/workflow-calls.ts";
import type { ExecuteWorkflowTool, StepRetries, StepRunner } from "../agent/workflow-run/loop.ts";
import { runAgentWorkflow } from "../agent/workflow-run/loop.ts";
import {
  type AgentWorkflowParams,
  type AgentWorkflowPort,
  sessionOverCalls,
  type WorkflowCall,
  type WorkflowCallReply,
  type WorkflowRunSession,
} from "../agent/workflow-run/protocol.ts";
import type { ErrorInfo } from "../ledger/events.ts";

/** Thrown inside an execution that a restart or a terminate replaced: it stops at its next step. */
class ExecutionGone extends Error {
  constructor() {
    super("this execution of the instance was replaced (restart or terminate)");
  }
}

interface Fault {
  /** The step fails this many more times before running (Workflows' `mockStepError`). */
  fail: number;
  /** The step runs, then its result is lost this many more times (a lost report). */
  lose: number;
  /** Runs before the step's attempt (e.g. to crash the session object mid-step). */
  before?: () => void | Promise<void>;
}

/**
 * One Workflow instance, in memory, replaying the way Workflows does: a step's result is
 * cached by its name and how many times the name was used before in the execution; a
 * restart runs `run` again from the top with the cache; a failing step is retried by its
 * own retry limit (at once: no delays); events of a type wait in a buffer until a
 * `waitForEvent` of that type takes them.
 */
export class MemoryInstance {
  status: "running" | "waiting" | "complete" | "errored" | "terminated" = "running";
  output: unknown;
  error: string | undefined;
  /** How many times each step's function actually ran (all attempts, all executions). */
  readonly ran = new Map<string, number>();
  readonly #cache = new Map<string, unknown>();
  readonly #buffer: string[] = [];
  #waiter: { type: string; resolve: () => void; reject: (e: unknown) => void } | undefined;
  #epoch = 0;
  #dormant = false;
  #done: Promise<void> = Promise.resolve();
  readonly #faults: Map<string, Fault>;
  readonly #session: () => WorkflowRunSession;
  readonly #execute: ExecuteWorkflowTool;

  constructor(
    session: () => WorkflowRunSession,
    faults: Map<string, Fault>,
    execute: ExecuteWorkflowTool,
  ) {
    this.#session = session;
    this.#faults = faults;
    this.#execute = execute;
  }

  /** Starts a new execution (the first, or a restart): the cache is kept, as on a replay. */
  start(): void {
    this.#dormant = false;
    const epoch = ++this.#epoch;
    this.#waiter?.reject(new ExecutionGone());
    this.#waiter = undefined;
    this.status = "running";
    const steps = this.#runner(epoch);
    // An abandoned execution stops at its next call, as an evicted isolate runs no more code.
    const session = this.#session();
    const guarded =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (epoch !== this.#epoch) throw new ExecutionGone();
        return call(...args);
      };
    const live: WorkflowRunSession = {
      decide: guarded(() => session.decide()),
      performModel: guarded((step: number) => session.performModel(step)),
      performTool: guarded((step: number, callId: string) => session.performTool(step, callId)),
      commitTool: guarded((step: number, callId: string, outcome: ToolWorkflowOutcome) =>
        session.commitTool(step, callId, outcome),
      ),
      giveUp: guarded((error: ErrorInfo) => session.giveUp(error)),
    };
    this.#done = runAgentWorkflow(live, steps, this.#execute).then(
      (output) => {
        if (epoch !== this.#epoch) return;
        this.status = "complete";
        this.output = output;
      },
      (error: unknown) => {
        if (epoch !== this.#epoch || error instanceof ExecutionGone) return;
        this.status = "errored";
        this.error = error instanceof Error ? error.message : String(error);
      },
    );
  }

  /** The instance restarted by the platform mid-run: the current execution is abandoned. */
  restart(): void {
    this.start();
  }

  /**
   * The engine lost the execution and does not restart it by itself (wrangler dev's local
   * Workflows after the process restarted: no alarms, so a dormant instance resumes only
   * when an event arrives). The status stays what the engine last knew; the next
   * `sendEvent` replays the instance from the top, with its cache.
   */
  sleep(): void {
    this.#epoch++;
    this.#dormant = true;
    this.#waiter?.reject(new ExecutionGone());
    this.#waiter = undefined;
  }

  terminate(): void {
    if (this.status === "complete" || this.status === "errored") return;
    this.#epoch++;
    this.#waiter?.reject(new ExecutionGone());
    this.#waiter = undefined;
    this.status = "terminated";
  }

  sendEvent(type: string): void {
    if (this.#dormant) {
      this.#buffer.push(type);
      this.start();
    } else if (this.#waiter?.type === type) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve();
    } else this.#buffer.push(type);
  }

  /** True while the current execution is parked in a wait or has finished. */
  get resting(): boolean {
    return this.#dormant || this.status !== "running";
  }

  /** Resolves when the current execution returns (or is abandoned). */
  finished(): Promise<void> {
    return this.#done;
  }

  #runner(epoch: number): StepRunner {
    const counts = new Map<string, number>();
    const key = (name: string) => {
      const n = (counts.get(name) ?? 0) + 1;
      counts.set(name, n);
      return `${name}#${n}`;
    };
    const alive = () => {
      if (epoch !== this.#epoch) throw new ExecutionGone();
    };
    return {
      do: async <T>(name: string, retries: StepRetries, run: () => Promise<T>): Promise<T> => {
        alive();
        const k = key(name);
        if (this.#cache.has(k)) return this.#cache.get(k) as T;
        let last: unknown;
        for (let attempt = 0; attempt <= retries.limit; attempt++) {
          alive();
          const fault = this.#faults.get(name);
          await fault?.before?.();
          if (fault && fault.fail > 0) {
            fault.fail--;
            last = new Error(`injected failure of step "${name}"`);
            continue;
          }
          try {
            this.ran.set(name, (this.ran.get(name) ?? 0) + 1);
            const value = await run();
            alive();
            if (fault && fault.lose > 0) {
              fault.lose--;
              last = new Error(`injected loss of step "${name}"'s result`);
              continue;
            }
            this.#cache.set(k, value);
            return value;
          } catch (error) {
            if (error instanceof ExecutionGone) throw error;
            last = error;
          }
        }
        throw last;
      },
      waitForEvent: async (name: string, type: string): Promise<void> => {
        alive();
        const k = key(name);
        if (this.#cache.has(k)) return;
        const buffered = this.#buffer.indexOf(type);
        if (buffered >= 0) this.#buffer.splice(buffered, 1);
        else {
          this.status = "waiting";
          await new Promise<void>((resolve, reject) => {
            this.#waiter = { type, resolve, reject };
          });
          this.status = "running";
        }
        this.#cache.set(k, null);
      },
    };
  }
}

/**
 * An in-memory Workflows binding for the Workflow executor's tests in core: the session's
 * `AgentWorkflowPort` on one side, the instances (each running core's `runAgentWorkflow`
 * against `session(params)`) on the other, with Workflows' fault helpers.
 */
export class MemoryWorkflows implements AgentWorkflowPort {
  readonly instances = new Map<string, MemoryInstance>();
  readonly #faults = new Map<string, Fault>();
  readonly #session: (params: AgentWorkflowParams) => WorkflowRunSession;
  readonly #execute: ExecuteWorkflowTool;

  /** `execute`: how a workflow tool's call runs inside a step (default: it fails, unknown tool). */
  constructor(
    session: (params: AgentWorkflowParams) => WorkflowRunSession,
    execute: ExecuteWorkflowTool = async (call) => ({
      type: "failed",
      error: { code: "unknown_tool", message: `no executor for the workflow tool ${call.tool}` },
    }),
  ) {
    this.#session = session;
    this.#execute = execute;
  }

  async wake(instanceId: string, params: AgentWorkflowParams): Promise<ErrorInfo | undefined> {
    const existing = this.instances.get(instanceId);
    if (!existing) {
      const instance = new MemoryInstance(() => this.#session(params), this.#faults, this.#execute);
      this.instances.set(instanceId, instance);
      instance.start();
    } else if (existing.status === "complete" || existing.status === "errored") existing.start();
    else existing.sendEvent("wake");
    return undefined;
  }

  async terminate(instanceId: string): Promise<void> {
    this.instances.get(instanceId)?.terminate();
  }

  async status(instanceId: string): Promise<ToolWorkflowStatus> {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`no instance ${instanceId}`);
    return { status: instance.status, output: instance.output };
  }

  /** The step `name` fails `times` times before it runs (all instances). */
  failStep(name: string, times: number): void {
    this.#fault(name).fail += times;
  }

  /** The step `name` runs, and its result is lost `times` times (a lost report). */
  loseResult(name: string, times: number): void {
    this.#fault(name).lose += times;
  }

  /** Runs `hook` before each attempt of step `name`. */
  beforeStep(name: string, hook: () => void | Promise<void>): void {
    this.#fault(name).before = hook;
  }

  /** Resolves once every instance's current execution is parked in a wait or has finished. */
  async resting(maxTurns = 10_000): Promise<void> {
    for (let turn = 0; turn < maxTurns; turn++) {
      if ([...this.instances.values()].every((i) => i.resting)) return;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    throw new Error("the Workflow instances did not come to rest");
  }

  #fault(name: string): Fault {
    let fault = this.#faults.get(name);
    if (!fault) {
      fault = { fail: 0, lose: 0 };
      this.#faults.set(name, fault);
    }
    return fault;
  }
}

/**
 * The session runtime as the instance of run `runId` reaches it, in-process: each call goes
 * through `wfCall`, the same dispatch the session object's RPC serves.
 */
export function inProcessSession(
  runtime: () => { wfCall(runId: string, call: WorkflowCall): Promise<WorkflowCallReply> },
  runId: string,
): WorkflowRunSession {
  return sessionOverCalls((call) => runtime().wfCall(runId, call));
}
