import type { SharedV4ProviderOptions } from "@ai-sdk/provider";
import type { AppContext } from "../app-events/app-context.ts";
import type { JsonValue, ToolEffect } from "../ledger/events.ts";
import type { SqlPort, SqlRow, SqlValue } from "../sql/port.ts";
import type { Admission, AdmitContext, ToolAuthority } from "./governance.ts";
import { withJsonSchema } from "./schema-convert.ts";
import { type ToolInputSchema, toolJsonSchema } from "./tool-schema.ts";

/** The session's application state, as a tool sees it. */
export interface ToolState {
  /**
   * The state and its version. After `set`, the state staged by this call, with the
   * version it replaces (its own version is assigned when the call's result commits).
   */
  get(): { state: JsonValue; version: number };
  /**
   * Stages the whole new state (checked against the agent's `stateSchema` and the event
   * size limit: a bad value throws here). It commits as a `state.updated` event in the
   * same transaction as this call's `tool.completed`, or not at all: a crash before the
   * commit leaves the state unchanged, and the redriven call writes it once. Not
   * compare-and-set: tool writes apply in the order their calls complete.
   */
  set(next: JsonValue): void;
}

/**
 * What a tool's `execute` gets besides its input. From `AppContext`: `emit` (staged: app
 * events commit with this call's `tool.completed`), `projection` and `schedule`.
 */
export interface ToolContext extends AppContext {
  /** Stable for this call across redrives and restarts; new in a fork. Pass it to external APIs. */
  readonly idempotencyKey: string;
  /** Aborted when the run is interrupted or aborted. */
  readonly signal: AbortSignal;
  readonly sessionId: string;
  readonly runId: string;
  readonly callId: string;
  readonly step: number;
  /**
   * Stages writes to the session's own SQLite. They commit in the same
   * transaction as this call's `tool.completed` event, or not at all, which
   * makes a local-only tool exactly-once.
   */
  transaction(write: (sql: SqlPort) => void): void;
  /** Reads the session's own SQLite (for example rows an earlier call committed). */
  query<T extends object = SqlRow>(sql: string, ...params: SqlValue[]): T[];
  /** The session's application state (`GET .../state`); writes commit with this call's result. */
  readonly state: ToolState;
  /**
   * `fetch`, restricted to the hosts on the allow-lists of the domains this tool names
   * (`domains`, declared on the agent). Any other host (a redirect's too) throws
   * HostNotAllowedError (`host_not_allowed`), which ends the call as `tool.failed`.
   */
  readonly fetch: typeof fetch;
}

export type ToolExecutor = "inline" | "workflow";

export interface ToolDefinition<Input = unknown, Output = unknown, Domain extends string = string> {
  readonly name: string;
  /**
   * What the tool does, for the model. Optional, as in the AI SDK's `tool()`: a tool without
   * one is sent without the field (the provider decides what that means).
   */
  readonly description?: string;
  /**
   * The input's schema: a zod schema, any Standard Schema with JSON Schema support, or
   * `jsonSchema({...})` from `ai`. Its root must be an object (`z.object(...)`): providers
   * refuse anything else. The model sees it as the AI SDK converts it (`.default()` fields
   * are optional); the call's arguments are validated with it before `execute`.
   */
  readonly input: ToolInputSchema<Input>;
  /**
   * How a redrive after a crash treats a call that started but has no result:
   * `pure` runs again; `idempotent` runs again with the same idempotencyKey;
   * `irreversible` never runs twice: the run pauses with `tool.outcome_unknown`.
   */
  readonly effect: ToolEffect;
  /**
   * Pause the run for a human before this call runs. Approve or deny (optionally
   * with edited arguments) through `resume`; the wait survives eviction and days.
   */
  readonly needsApproval?: boolean | ((input: Input) => boolean);
  /**
   * A client-side tool (the AI SDK's sense): the client answers the call with its output, and
   * the run waits for it (`approval.requested` with `client: true`, `run.waiting` `approval`).
   * The UI message stream shows the call as `tool-input-available` only (useChat's
   * `onToolCall` + `addToolOutput`), AG-UI as an interrupt with reason `client_tool`; the
   * answer is `resume` with `approvals: [{ callId, approved: true, result }]`. `execute` runs
   * only for an answer approved without a `result` (a server fallback); a denial fails the call.
   */
  readonly client?: boolean;
  /**
   * Where `execute` runs. `"inline"` (default): inside the session object, during the step.
   * `"workflow"`: in a Cloudflare Workflow instance (see createToolWorkflow); the run waits
   * for its result without holding a request, and `execute` gets no `transaction`, `query`
   * or `state` (it runs outside the session object).
   */
  readonly executor?: ToolExecutor;
  /**
   * What the tool may touch (default `write`): `read` (only reads), `write` (the session's own
   * data), `external` (the outside world, through `ctx.fetch` to the `domains` it names).
   */
  readonly authority?: ToolAuthority;
  /**
   * The agent's domains (`defineAgent({ domains })`) this tool calls through `ctx.fetch`;
   * only `external` tools name domains, and each must name at least one.
   */
  readonly domains?: readonly Domain[];
  /**
   * Runs before `execute` with the validated input, on every redrive too. A refusal
   * (`{ admitted: false, reason }`) or a throw ends the call as `tool.failed`
   * (`tool_refused`, with the reason), which the model sees; the run goes on.
   */
  readonly admit?: (input: Input, ctx: AdmitContext) => Admission | Promise<Admission>;
  /**
   * Strict mode for the tool's input, passed to the model as the AI SDK passes it (the
   * `strict` of its `LanguageModelV4FunctionTool`): providers that support it (OpenAI strict
   * function calling) then generate only inputs that match the schema, and may refuse schemas
   * that strict mode does not support. Unset: the provider's default.
   */
  readonly strict?: boolean;
  /**
   * Example inputs for the model, `[{ input: { city: "Oslo" } }]`, passed as the AI SDK passes
   * a tool's `inputExamples` (the `inputExamples` of its `LanguageModelV4FunctionTool`, sent
   * as given). `@ai-sdk/anthropic` sends them as the tool's `input_examples` (with the
   * `advanced-tool-use-2025-11-20` beta); for a provider that has no such field,
   * `addToolInputExamplesMiddleware` from `ai` writes them into the description. Like the AI
   * SDK, nothing checks them against `input`. Unset: none are sent.
   */
  readonly inputExamples?: ReadonlyArray<{ readonly input: NoInfer<Input> }>;
  /**
   * Provider-specific options for this tool, by provider then key, passed as the AI SDK passes
   * a tool's `providerOptions` (the `providerOptions` of its `LanguageModelV4FunctionTool`),
   * e.g. `{ anthropic: { cacheControl: { type: "ephemeral" } } }` for an Anthropic prompt
   * cache breakpoint after this tool's definition (`cache_control`). JSON values; the
   * provider reads its own key and ignores the others. Unset: none are sent.
   */
  readonly providerOptions?: SharedV4ProviderOptions;
  /** Returns a JSON-serializable result; it is what the model sees. */
  execute(input: Input, ctx: ToolContext): Promise<Output> | Output;
}

/**
 * Declares a tool. Its input schema goes through the AI SDK's `asSchema` here (schema-convert.ts),
 * so any schema `streamText` takes works. Throws a TypeError for a bad name, an input schema
 * whose JSON Schema root is not an object (OpenAI and Anthropic refuse it), or an irreversible
 * tool on Workflows.
 */
export function defineTool<Input, Output, const Domain extends string = never>(
  definition: ToolDefinition<Input, Output, Domain>,
): ToolDefinition<Input, Output, Domain> {
  checkToolName(definition.name);
  withJsonSchema(definition.input, `tool "${definition.name}": its input schema`);
  checkTool(definition);
  return definition;
}

/**
 * `defineTool`'s checks without `asSchema` (what `defineAgent` runs on every tool, including
 * one written as a plain object or with `tool()` from `ai`): the name, the input's JSON Schema
 * (tool-schema.ts: one `defineTool` or `withJsonSchema` made, or the schema's own), Workflows
 * and authority. Throws a TypeError that says what to do.
 */
export function checkTool(definition: AnyTool): void {
  checkToolName(definition.name);
  toolJsonSchema(definition.name, definition.input);
  if (definition.executor === "workflow" && definition.effect === "irreversible") {
    throw new TypeError(
      `tool "${definition.name}" is irreversible, but Workflows may run execute() more than once (step retries, instance restarts): run it inline (executor: "inline"), or make it effect: "idempotent" and pass ctx.idempotencyKey to the API it calls`,
    );
  }
  checkAuthority(definition);
}

function checkToolName(name: string): void {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name))
    throw new TypeError(`tool name "${name}" must be 1-64 letters, digits, _ or -`);
}

function checkAuthority({
  name,
  authority,
  domains,
}: Pick<AnyTool, "name" | "authority" | "domains">): void {
  if (authority !== undefined && !["read", "write", "external"].includes(authority))
    throw new TypeError(`tool "${name}": authority must be "read", "write" or "external"`);
  if (authority === "external" && (domains?.length ?? 0) === 0)
    throw new TypeError(
      `tool "${name}" has authority "external" but names no domains; list the agent's domains it calls (domains: ["github"])`,
    );
  if (authority !== "external" && domains !== undefined)
    throw new TypeError(
      `tool "${name}" names domains but its authority is "${authority ?? "write"}"; only authority "external" tools call out`,
    );
}

/** A tool of any input and output type, as agents hold them in one list. */
// biome-ignore lint/suspicious/noExplicitAny: input types differ per tool; each tool checks its own
export type AnyTool = ToolDefinition<any, any, any>;
