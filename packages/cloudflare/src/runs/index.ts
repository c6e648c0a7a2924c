export {
  type AgentRef,
  type AgentRuns,
  type AgentRunsOptions,
  agentRuns,
  type ExecuteOptions,
  type RunHandle,
  type RunResult,
  type RunState,
  type StreamOptions,
} from "./agent-runs.ts";
export type { RetryOptions } from "./follow.ts";
