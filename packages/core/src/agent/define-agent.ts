import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { JsonValue } from "../ledger/events.ts";
import type { McpToolSource } from "../mcp/source.ts";
import { type AppSchema, check } from "../validation/check.ts";
import { jsonValue } from "../validation/fields.ts";
import { type AiSdkTool, fromAiSdkTool, isAiSdkTool } from "./ai-sdk-tool.ts";
import { type ContextOptions, checkContextOptions } from "./context-options.ts";
import { type AnyTool, checkTool, type ToolDefinition } from "./define-tool.ts";
import { assertDomainsDeclared, type DomainPolicies } from "./governance.ts";
import {
  checkModelOptions,
  type ModelOptions,
  type PrepareStep,
  toolChoiceProblem,
} from "./model-options.ts";
import type { ModelTimeouts } from "./model-timeouts.ts";
import { checkAgentSchema } from "./structured-output.ts";

/** Build-time context for models that depend on the environment (API keys, bindings). */
export interface ModelContext {
  readonly env: Record<string, unknown>;
}

export type ModelSource = LanguageModelV4 | ((ctx: ModelContext) => LanguageModelV4);

export interface AgentDefinition {
  readonly name: string;
  readonly system: string;
  /** Any AI SDK LanguageModel (provider spec v4), or a function of the environment that returns one. */
  readonly model: ModelSource;
  readonly tools: readonly AnyTool[];
  /** Model calls per run before it fails with `max_steps`. Default 10. */
  readonly maxSteps: number;
  /**
   * The shape of the final answer. The model is asked for JSON matching it (tools
   * still work in earlier steps); the run's output is the parsed, validated object.
   */
  readonly outputSchema?: AppSchema;
  /**
   * Call settings for every model call of this agent, as `streamText` takes them:
   * `temperature`, `maxOutputTokens`, `topP`, `stopSequences`, `toolChoice`,
   * `providerOptions`, `headers`, ...
   */
  readonly modelOptions?: ModelOptions;
  /**
   * Runs before each model call and may change its model, tools (`activeTools`), system
   * prompt or settings for that call (the AI SDK's `prepareStep` idea). What it returns is
   * not recorded: keep it a function of its context, so a retried step gets the same call.
   */
  readonly prepareStep?: PrepareStep;
  /**
   * How long a model call may wait for its provider before it is aborted and retried
   * (`model_timeout`). Defaults: `firstTokenMs` 120 s, `idleMs` 60 s (DEFAULT_MODEL_TIMEOUTS).
   */
  readonly modelTimeouts?: Partial<ModelTimeouts>;
  /** The application state before any write (version 0). Without it, the state starts as null. */
  readonly initialState?: JsonValue;
  /**
   * The shape of the application state. Every write, from a client (`PUT .../state`) or a
   * tool (`ctx.state.set`), is checked against it; the value is stored as written.
   */
  readonly stateSchema?: AppSchema;
  /**
   * MCP servers whose tools the agent offers the model besides `tools` (see `mcpServer` in
   * `@durable-agents/core/mcp`). Each run lists them once and records the list in the ledger.
   */
  readonly mcp?: readonly McpToolSource[];
  /**
   * The outside domains the agent's `external` tools call, each with its host allow-list
   * read from the environment: `{ github: { allow: (env) => String(env.GITHUB_HOSTS).split(",") } }`.
   * A session does not open (`domain_not_configured`, 500) while an allow-list is empty.
   */
  readonly domains?: DomainPolicies;
  /**
   * What drives the agent's runs (a run's start may choose otherwise): `"alarm"` (default),
   * the session object's alarm, one step per wake-up; or `"workflow"`, a Cloudflare Workflow
   * instance per run, one `step.do` per model call and per tool call (createAgentWorkflow,
   * binding AGENT_WORKFLOW). Either way the session object keeps the ledger; see
   * docs/architecture.md (Two executors).
   */
  readonly executor?: RunExecutor;
  /**
   * Context compaction: what the model sees of a long conversation. Absent (default): every
   * message. `{ keepMessages, compactAfterMessages?, compactAfterTokens?, summarize? }`: before a
   * model call whose prompt holds more than `compactAfterMessages` messages, or once the last
   * model call's input tokens reached `compactAfterTokens`, the older ones are replaced by a
   * summary (written by the agent's model, or `summarize`) and the newest `keepMessages` are
   * kept; recorded as a `context.compacted` event. Clients still read every message.
   */
  readonly context?: ContextOptions;
}

/** What drives a run's steps: the session object's alarm, or a Workflow instance. */
export type RunExecutor = "alarm" | "workflow";

/**
 * An agent's tools: a list of `defineTool` tools, or a record keyed by tool name (the way
 * `streamText({ tools })` takes them) whose values are `defineTool` tools or AI SDK
 * `tool({...})` objects (see `AiSdkTool` for the effect they get).
 */
export type AgentTools<Domain extends string = string> =
  // biome-ignore lint/suspicious/noExplicitAny: input types differ per tool; each tool checks its own
  | readonly ToolDefinition<any, any, Domain>[]
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | Readonly<Record<string, ToolDefinition<any, any, Domain> | AiSdkTool>>;

/** The domain names a tool of an agent with `domains: D` may name (any, when it declares none). */
export type DeclaredDomain<D extends DomainPolicies> = string extends keyof D
  ? string
  : keyof D & string;

export type AgentOptions<D extends DomainPolicies = DomainPolicies> = Omit<
  AgentDefinition,
  "maxSteps" | "tools" | "domains"
> &
  Partial<Pick<AgentDefinition, "maxSteps">> & {
    readonly tools?: AgentTools<DeclaredDomain<D>>;
    readonly domains?: D;
  };

/**
 * An agent's name: 1-64 lowercase letters, digits, `_` or `-`, starting with a letter or digit.
 * The one rule, for defineAgent and for the doors that take a name before any registry
 * (`/mcp/:agent`).
 */
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Declares an agent.
 * @example
 * defineAgent({ name: "assistant", system: "Be brief.", model: openai("gpt-4o-mini"), tools: [calculator] })
 */
export function defineAgent<const D extends DomainPolicies = DomainPolicies>(
  options: AgentOptions<D>,
): AgentDefinition {
  if (!AGENT_NAME_PATTERN.test(options.name)) {
    throw new TypeError(
      `agent name "${options.name}" must be 1-64 lowercase letters, digits, _ or -`,
    );
  }
  const tools = toolList(options.name, options.tools);
  const names = new Set<string>();
  for (const tool of tools) {
    checkTool(tool); // defineTool's checks, for a tool written as a plain object too
    if (names.has(tool.name))
      throw new TypeError(`agent "${options.name}" has two tools named "${tool.name}"`);
    names.add(tool.name);
  }
  const servers = new Set<string>();
  for (const server of options.mcp ?? []) {
    if (servers.has(server.name))
      throw new TypeError(`agent "${options.name}" has two MCP servers named "${server.name}"`);
    servers.add(server.name);
  }
  // Refused here already (type-checked too when the agent declares domains); allow-lists need env.
  assertDomainsDeclared({ name: options.name, tools, domains: options.domains });
  checkAgentSchema(options.name, "stateSchema", options.stateSchema);
  checkAgentSchema(options.name, "outputSchema", options.outputSchema);
  checkInitialState(options);
  checkModelOptions(options.name, options.modelOptions);
  checkContextOptions(options.name, options.context);
  const choice = toolChoiceProblem(
    options.modelOptions?.toolChoice,
    [...names],
    (options.mcp ?? []).length > 0,
  );
  if (choice) throw new TypeError(`agent "${options.name}": modelOptions.${choice}`);
  for (const [key, ms] of Object.entries(options.modelTimeouts ?? {})) {
    if (!Number.isFinite(ms) || ms <= 0)
      throw new TypeError(
        `agent "${options.name}": modelTimeouts.${key} must be a positive number of milliseconds`,
      );
  }
  if (
    options.executor !== undefined &&
    options.executor !== "alarm" &&
    options.executor !== "workflow"
  )
    throw new TypeError(`agent "${options.name}": executor must be "alarm" or "workflow"`);
  const maxSteps = options.maxSteps ?? 10;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new TypeError(`agent "${options.name}": maxSteps must be a positive integer`);
  }
  return { ...options, tools, maxSteps };
}

function toolList(agent: string, tools: AgentTools | undefined): AnyTool[] {
  if (tools === undefined) return [];
  if (Array.isArray(tools)) return [...(tools as readonly AnyTool[])];
  return Object.entries(tools as Readonly<Record<string, AnyTool | AiSdkTool>>).map(
    ([name, tool]) => {
      if (isAiSdkTool(tool)) return fromAiSdkTool(name, tool);
      if (tool.name !== name) {
        throw new TypeError(
          `agent "${agent}": the tool under key "${name}" is named "${tool.name}"; use its name as the key`,
        );
      }
      return tool;
    },
  );
}

function checkInitialState({ name, initialState, stateSchema }: AgentOptions): void {
  if (initialState === undefined) return;
  if (!check(jsonValue, initialState).success) {
    throw new TypeError(
      `agent "${name}": initialState must be a JSON value (no undefined, functions, dates or class instances)`,
    );
  }
  const fits = stateSchema && check(stateSchema, initialState);
  if (fits && !fits.success) {
    throw new TypeError(
      `agent "${name}": initialState does not match stateSchema: ${fits.summary}`,
    );
  }
}

export function resolveModel(
  agent: AgentDefinition,
  env: Record<string, unknown>,
): LanguageModelV4 {
  return typeof agent.model === "function" ? agent.model({ env }) : agent.model;
}
