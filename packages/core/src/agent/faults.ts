/**
 * Named points in the step machine (and before the onComplete hook) where
 * tests inject a crash. Production passes no injector; the fault-injection
 * suite passes one that aborts the Durable Object at a chosen point.
 */
export type FaultPoint =
  | "before-model"
  | "mid-stream"
  | "after-tool-started"
  | "before-tool-commit"
  | "after-step-commit"
  /** A run's `run.completed` is committed and its onComplete hook is about to run. */
  | "before-on-complete"
  /** An `on` handler ran; its staged events and writes and its row's completion are about to commit. */
  | "before-handler-commit"
  /** A tool's Workflow instance reached the session object with its outcome (before it is recorded). */
  | "before-tool-result"
  /** A run's Workflow instance reached the session object (a decide or a step), before it is served. */
  | "before-workflow-call"
  /** A run's Workflow step (model or tool) was served and committed; its reply is about to go back (a lost report). */
  | "after-workflow-call";

export interface FaultInfo {
  readonly sessionId?: string;
  readonly runId: string;
  readonly step: number;
  readonly callId?: string;
}

/** Throw (or abort the object) to crash there; return a promise to pause there. */
export type FaultInjector = (point: FaultPoint, info: FaultInfo) => void | Promise<void>;
