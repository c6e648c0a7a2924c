// @durable-agents/core: runtime-agnostic. Web APIs only; never cloudflare:* or node:*.

export {
  AI_SDK_TOOL_DEFAULT_EFFECT,
  type AiSdkTool,
  fromAiSdkTool,
} from "./agent/ai-sdk-tool.ts";
export {
  AppState,
  type CasDecision,
  decideCompareAndSet,
  StateVersionConflictError,
  type StateView,
} from "./agent/app-state.ts";
export { type CoalesceOptions, DEFAULT_COALESCE } from "./agent/coalescer.ts";
export {
  type CompletionHook,
  ON_COMPLETE_KIND,
  type RunCompletedInfo,
  type RunEndStatus,
} from "./agent/completion-hook.ts";
export type { ContextOptions, SummarizeInput, Summarizer } from "./agent/context-options.ts";
export {
  AGENT_NAME_PATTERN,
  type AgentDefinition,
  type AgentOptions,
  type AgentTools,
  type DeclaredDomain,
  defineAgent,
  type ModelContext,
  type ModelSource,
  type RunExecutor,
  resolveModel,
} from "./agent/define-agent.ts";
export {
  childSessionId,
  type Delegation,
  defineSubagent,
  type SubagentTool,
} from "./agent/define-subagent.ts";
export {
  defineTool,
  type ToolContext,
  type ToolDefinition,
  type ToolExecutor,
  type ToolState,
} from "./agent/define-tool.ts";
export type { FaultInfo, FaultInjector, FaultPoint } from "./agent/faults.ts";
export {
  type Admission,
  type AdmitContext,
  AgentConfigError,
  admitCall,
  assertDomainsDeclared,
  type DomainPolicies,
  type DomainPolicy,
  governedFetch,
  HostNotAllowedError,
  hostAllowed,
  type ResolvedDomains,
  resolveDomains,
  type ToolAuthority,
} from "./agent/governance.ts";
export {
  DEFAULT_IDLE_PROMPT_CACHE_BYTES,
  IdlePromptCaches,
  isolateIdlePromptCaches,
} from "./agent/idle-prompt-caches.ts";
export { RUN_HEADER_DENY_LIST } from "./agent/model-headers.ts";
export type {
  ModelOptions,
  PrepareStep,
  PrepareStepContext,
  PrepareStepResult,
  ToolChoice,
} from "./agent/model-options.ts";
export { DEFAULT_MODEL_TIMEOUTS, type ModelTimeouts } from "./agent/model-timeouts.ts";
export type { PriorMessageInput } from "./agent/prior-messages.ts";
export type { ResumeCheck } from "./agent/run-control.ts";
export { idempotencyKey, RUN_STEP_KIND } from "./agent/run-driver.ts";
export {
  NoActiveRunError,
  RunAbortedError,
  RunActiveError,
  RunFailedError,
} from "./agent/run-errors.ts";
export { runKey } from "./agent/run-scheduler.ts";
export { withJsonSchema } from "./agent/schema-convert.ts";
export { SessionRuntime as SessionRuntimeBase } from "./agent/session-runtime.ts";
export { SessionRuntime } from "./agent/session-runtime-default.ts";
export {
  ACTIVE,
  DEFAULT_RUNTIME_LIMITS,
  type RuntimeLimits,
  runtimeLimits,
  type SessionRuntimeOptions,
  type SessionStatus,
  type StartedRun,
  type StatusView,
} from "./agent/session-runtime-options.ts";
export { nextAction, type StepAction, type StepLimits } from "./agent/step-machine.ts";
export type { ChildReply, StartChild, SubagentMessage, SubagentPort } from "./agent/subagents.ts";
export { DEFAULT_SUMMARY_INSTRUCTIONS } from "./agent/summarize.ts";
export {
  DEFAULT_SUMMARIZE_TIMEOUT_MS,
  MAX_SUMMARY_BYTES,
  SummarizeError,
  type SummarizeErrorCode,
} from "./agent/summarize-function.ts";
export {
  parseToolInput,
  type ToolInputResult,
  type ToolInputSchema,
  toolJsonSchema,
} from "./agent/tool-schema.ts";
export {
  DEFAULT_WORKFLOW_CHECK_MS,
  isWorkflowTool,
  type ToolWorkflowExecutor,
  type ToolWorkflowOutcome,
  type ToolWorkflowParams,
  type ToolWorkflowPort,
  type ToolWorkflowResult,
  type ToolWorkflowStatus,
  WORKFLOW_CHECK_KIND,
  WORKFLOW_CREATE_KIND,
  workflowInstanceId,
} from "./agent/workflow-calls.ts";
export { toolWorkflowExecutor } from "./agent/workflow-check.ts";
export {
  type WorkflowRunExecutor,
  type WorkflowRunHostPort,
  workflowRunExecutor,
} from "./agent/workflow-run/executor.ts";
export {
  type AgentWorkflowLoopOptions,
  DEFAULT_STEP_RETRIES,
  DEFAULT_WAIT_TIMEOUT_MS,
  type ExecuteWorkflowTool,
  runAgentWorkflow,
  type StepRetries,
  type StepRunner,
} from "./agent/workflow-run/loop.ts";
export {
  type AgentWorkflowParams,
  type AgentWorkflowPort,
  runInstanceId,
  sessionOverCalls,
  WAKE_EVENT,
  type WorkflowCall,
  type WorkflowCallReply,
  type WorkflowDecision,
  type WorkflowRunSession,
} from "./agent/workflow-run/protocol.ts";
export {
  type AnyAppEvent,
  type AnyProjection,
  type AnySubscription,
  APP_EVENT_PREFIX,
  type AppContext,
  type AppEventDefinition,
  type AppEventHandlerContext,
  type AppEventOf,
  AppProjections,
  assertDistinctProjections,
  assertDistinctSubscriptions,
  defineEvent,
  defineProjection,
  InvalidAppEventError,
  isAppEventKind,
  on,
  type PayloadOf,
  type ProjectionDefinition,
  ProjectionFailedError,
  ProjectionNeedsRebuildError,
  type ProjectionPage,
  type ProjectionReader,
  ProjectionRebuildFailedError,
  type ProjectionState,
  type ProjectionStatus,
  type ProjectionStore,
  type ScheduleRequest,
  type StagedAppContext,
  StagedEffects,
  type Subscription,
  UnknownProjectionError,
} from "./app-events/index.ts";
export {
  type AccessDecision,
  type AccessTarget,
  AGENT_SUB_PREFIX,
  agentSub,
  decideAccess,
  ForbiddenError,
  MCP_SUB_PREFIX,
  type MintOptions,
  mcpSub,
  mintIndexToken,
  mintSessionToken,
  mintStreamToken,
  type SessionClaims,
  STREAM_SUB_PREFIX,
  type StreamTokenOptions,
  scopeOf,
  signClaims,
  streamSub,
  TOKEN_SCOPES,
  type TokenScope,
  UnauthorizedError,
  type VerifyResult,
  verifySessionToken,
} from "./auth/index.ts";
export { type Clock, systemClock } from "./clock.ts";
export {
  answeredByHook,
  type Caller,
  COMMAND_SCOPES,
  type CommandCall,
  type CommandName,
  type CommandOutcome,
  type CommandResult,
  type CommandRunContext,
  checkCaller,
  commandRefusal,
  compareAndSetStatus,
  dispatchCommand,
  expiredError,
  isCommandName,
  missingScopeError,
  otherSessionError,
  type ResumeBody,
  routeScope,
  SESSION_COMMANDS,
  type SessionCommand,
  STATUS_TRANSITIONS,
  type StartBody,
  type StatusTransitionInput,
  type StatusTransitionResult,
  statusTransitionInput,
  type TargetStatus,
  TRUSTED_CALLER,
  type Transport,
} from "./commands/index.ts";
export * as errors from "./errors/index.ts";
export {
  BadRequestError,
  ConflictError,
  DurableAgentsError,
  errorFromWire,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  quoteInput,
  RetryableError,
  TerminalError,
  UnsupportedMediaTypeError,
  UserError,
} from "./errors/index.ts";
export {
  CHAT_STOP_REASON,
  type ChatOptions,
  DEFAULT_CHAT_OPTIONS,
} from "./http/chat/chat-presence.ts";
export {
  commandRoute,
  type InputSource,
  renderCommandResponse,
  runHttpCommand,
} from "./http/command-route.ts";
export { errorResponse, type RenderedError, renderError } from "./http/error-response.ts";
export { type HookName, HookRegistry } from "./http/hook-registry.ts";
export type {
  AfterHook,
  BeforeHook,
  CommandHookContext,
  ExecutionState,
  HookContext,
  SessionHooks,
} from "./http/hooks.ts";
export type { IndexedSession, SessionQuery, SessionsPage } from "./http/index-views.ts";
export { assertJsonDepth, JsonTooDeepError } from "./http/json-depth.ts";
export { bodyLimit, LIMITS } from "./http/limits.ts";
export {
  decodePathSegment,
  ID_PATTERN,
  ID_RULE,
  MAX_ID_CHARS,
  sessionIdInput,
} from "./http/path-segment.ts";
export {
  readBody,
  readBytes,
  readJson,
  readJsonBytes,
  validate,
} from "./http/read-json.ts";
export type { SessionPeers } from "./http/route.ts";
export { type StatusResponse, sessionStatus } from "./http/routes/read-routes.ts";
export {
  handleSessionRequest,
  type SessionHttpContext,
  SOCKET_ROUTE,
  sessionActions,
  sessionRoutes,
} from "./http/session-handler.ts";
export {
  type CheckpointsPage,
  type CheckpointsPageQuery,
  checkpointsPage,
  checkpointsPageQuery,
  type MessagesPage,
  type MessagesPageQuery,
  messagesPage,
  messagesPageQuery,
} from "./http/session-pages.ts";
export { type PriceTable, type UsageRollup, type UsageView, usageView } from "./http/usage-view.ts";
export type {
  AppEventKind,
  EventKind,
  EventPayloads,
  JsonValue,
  LedgerEvent,
  NewEvent,
  PriorMessage,
  RuntimeEventKind,
  StateSource,
  ToolEffect,
} from "./ledger/events.ts";
export { TERMINAL_KINDS } from "./ledger/events.ts";
export { Ledger, ledgerStartedAt } from "./ledger/ledger.ts";
export { decodeOffset, encodeOffset, START_OFFSET } from "./ledger/offset.ts";
export type { Projection } from "./ledger/projection.ts";
export * from "./ledger/projections/index.ts";
export {
  isClientWait,
  isWaitingForClient,
  movesOnItsOwn,
  WAIT_REASONS,
  type WaitReason,
  waitsForClient,
} from "./ledger/wait-reasons.ts";
export { toWire, type WireEvent } from "./ledger/wire-event.ts";
export { consoleLogger, type Logger, silentLogger } from "./logger.ts";
export {
  type ScriptContext,
  type ScriptedModelOptions,
  type ScriptRule,
  type ScriptTurn,
  scriptedModel,
} from "./model/scripted-model.ts";
export {
  acknowledge,
  enqueue,
  OUTBOX_DELIVERY_KEY,
  OUTBOX_KIND,
  OutboxDelivery,
  type OutboxDeliveryOptions,
  type OutboxMessage,
  outboxLagMs,
  outboxProjection,
  outboxSize,
  type PendingMessage,
  pendingMessages,
} from "./outbox/index.ts";
export {
  type Migration,
  migrate,
  one,
  type SqlPort,
  type SqlRow,
  type SqlValue,
} from "./sql/index.ts";
export {
  type PendingDecision,
  type RunOutcome,
  type RunRead,
  type RunWait,
  type StoreCall,
  type StoreCallContext,
  serveStoreCall,
} from "./store/index.ts";
export { takeUntilBudget } from "./streams/budget.ts";
export {
  DEFAULT_DELIVERY_WINDOW_MS,
  DeliveryWindow,
  deliveryWindow,
  type FlushListener,
} from "./streams/delivery-window.ts";
export {
  DEFAULT_LIVE_READ,
  type LedgerChunk,
  type LedgerCodec,
  type LiveReadOptions,
  ledgerReadSource,
  serveLedgerRead,
  WIRE_EVENT_CODEC,
} from "./streams/ledger-source.ts";
export { SocketCredit } from "./streams/socket-credit.ts";
export {
  DURABLE_AGENTS,
  derivedSpanId,
  GEN_AI,
  getRunTrace,
  newRunTrace,
  type RunTrace,
  type RunTraceRecord,
  RunTracer,
  type RunTracing,
  runTracing,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanRecord,
  segmentSpanId,
  stepSpanId,
  type TraceSink,
} from "./tracing/index.ts";
export {
  assertDistinctKinds,
  type CronSchedules,
  type DueItem,
  DueWork,
  defineTrigger,
  type PumpOptions,
  Schedules,
  type ScheduleView,
  type TriggerCancellation,
  TriggerCancelledError,
  type TriggerContext,
  type TriggerDefinition,
  type TriggerHandler,
  type TriggerOutcome,
  TriggerPump,
  type When,
} from "./triggers/index.ts";
export { utf8Length } from "./utf8.ts";
export { closedObject } from "./validation/fields.ts";
