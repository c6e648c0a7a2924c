import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt,
  LanguageModelV4ToolChoice,
  SharedV4ProviderOptions,
} from "@ai-sdk/provider";
import * as z from "zod/mini";
import { TerminalError } from "../errors/base.ts";
import { check, type SchemaIssue } from "../validation/check.ts";
import { jsonValue, text } from "../validation/fields.ts";
import { headersSchema, runHeadersSchema } from "./model-headers.ts";

/**
 * The call settings an AI SDK user passes to `streamText`, with the same names and meaning
 * (https://ai-sdk.dev/docs/ai-sdk-core/settings). Set per agent (`modelOptions`), per run
 * (`modelOptions` of `POST .../runs`, recorded in `run.started`), and per step with
 * `prepareStep`; each layer wins over the one before field by field, `headers` by header name
 * and `providerOptions` by provider and then by key.
 */
export interface ModelOptions {
  readonly temperature?: number;
  readonly maxOutputTokens?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  readonly stopSequences?: readonly string[];
  readonly seed?: number;
  /** `"auto"` (default), `"none"`, `"required"`, or `{ type: "tool", toolName }`. */
  readonly toolChoice?: ToolChoice;
  /** Provider-specific options, by provider: `{ anthropic: { thinking: {...} } }`. */
  readonly providerOptions?: SharedV4ProviderOptions;
  /** Extra HTTP headers for the provider request. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Reasoning effort for models that support it (AI SDK `reasoning`). */
  readonly reasoning?: LanguageModelV4CallOptions["reasoning"];
}

export type ToolChoice =
  | "auto"
  | "none"
  | "required"
  | { readonly type: "tool"; readonly toolName: string };

/** What `prepareStep` sees: the step about to call the model. */
export interface PrepareStepContext {
  readonly sessionId: string;
  readonly runId: string;
  /** The step number in the run (1 for the first model call), and the attempt of this call. */
  readonly step: number;
  readonly attempt: number;
  /** The conversation the model is about to get, in the provider-spec prompt format. */
  readonly prompt: LanguageModelV4Prompt;
  readonly env: Record<string, unknown>;
}

/** What `prepareStep` may change for this one call; absent fields keep the agent's. */
export interface PrepareStepResult extends ModelOptions {
  /** A different model for this step (any AI SDK LanguageModel). */
  readonly model?: LanguageModelV4;
  /** The names of the tools the model may call in this step (default: all of the agent's). */
  readonly activeTools?: readonly string[];
  /** A different system prompt for this step. */
  readonly system?: string;
}

/** Runs before every model call; like the AI SDK's `prepareStep`. May be async. */
export type PrepareStep = (
  ctx: PrepareStepContext,
) => PrepareStepResult | undefined | Promise<PrepareStepResult | undefined>;

/**
 * The settings of one call: the agent's options, then the run's, then the step's, as provider
 * call options (later layers win; `headers` merge by name, `providerOptions` by provider and key).
 */
export function callSettings(
  ...layers: (ModelOptions | undefined)[]
): Omit<LanguageModelV4CallOptions, "prompt"> {
  const present = layers.filter((l): l is ModelOptions => l !== undefined);
  const merged: ModelOptions = Object.assign({}, ...present);
  const { toolChoice, stopSequences, headers, providerOptions, ...rest } = merged;
  const out: Omit<LanguageModelV4CallOptions, "prompt"> = { ...rest };
  if (toolChoice !== undefined) out.toolChoice = providerToolChoice(toolChoice);
  if (stopSequences !== undefined) out.stopSequences = [...stopSequences];
  if (headers !== undefined) out.headers = Object.assign({}, ...present.map((l) => l.headers));
  if (providerOptions !== undefined) {
    const byProvider: Record<string, Record<string, unknown>> = {};
    for (const layer of present)
      for (const [provider, options] of Object.entries(layer.providerOptions ?? {}))
        byProvider[provider] = { ...byProvider[provider], ...options };
    out.providerOptions = byProvider as SharedV4ProviderOptions;
  }
  return out;
}

function providerToolChoice(choice: ToolChoice): LanguageModelV4ToolChoice {
  return typeof choice === "string"
    ? { type: choice }
    : { type: "tool", toolName: choice.toolName };
}

const finite = z.number({ error: "must be a finite number" });
const positiveInt = z
  .int({ error: "must be a positive integer" })
  .check(z.gte(1, { error: "must be a positive integer" }));
const between = (min: number, max: number) => {
  const error = `must be between ${min} and ${max}`;
  return finite.check(z.gte(min, { error }), z.lte(max, { error }));
};

/**
 * The wire form of `ModelOptions` as the agent's code sets it (`defineAgent`'s check, and
 * `prepareStep`'s answer), with any valid header. JSON only: `providerOptions` are JSON objects
 * by provider, `headers` strings. Unknown fields are refused, so a misspelt setting is an
 * error, never silently ignored.
 *
 * Ranges refuse what no major provider takes (the AI SDK passes these through, its settings page
 * says "the range depends on the provider and model"): `temperature` 0–2 (OpenAI and Google take
 * 0–2, Anthropic 0–1), `topP` 0–1 (all of them; the AI SDK documents 0–1), `topK` a positive
 * integer, `presencePenalty` and `frequencyPenalty` −2–2 (OpenAI's range; Google's is narrower,
 * Anthropic has none).
 */
export const modelOptionsSchema = z.strictObject({
  temperature: z.optional(between(0, 2)),
  maxOutputTokens: z.optional(positiveInt),
  topP: z.optional(between(0, 1)),
  topK: z.optional(positiveInt),
  presencePenalty: z.optional(between(-2, 2)),
  frequencyPenalty: z.optional(between(-2, 2)),
  seed: z.optional(z.int({ error: "must be an integer" })),
  stopSequences: z.optional(z.array(text(1, 256)).check(z.maxLength(16))),
  toolChoice: z.optional(
    z.union([
      z.enum(["auto", "none", "required"]),
      z.strictObject({ type: z.literal("tool"), toolName: text(1, 128) }),
    ]),
  ),
  providerOptions: z.optional(z.record(text(1, 64), z.record(z.string(), jsonValue))),
  headers: z.optional(headersSchema),
  reasoning: z.optional(
    z.enum(["provider-default", "none", "minimal", "low", "medium", "high", "xhigh", "max"]),
  ),
});

/**
 * A run's `modelOptions` (the body of `POST .../runs`): `modelOptionsSchema`, except that its
 * headers may not set credential or hop-by-hop headers (`RUN_HEADER_DENY_LIST`).
 */
export const runModelOptionsSchema = z.extend(modelOptionsSchema, {
  headers: z.optional(runHeadersSchema),
});

/** Throws a TypeError for settings no provider would take (checked when the agent is defined). */
export function checkModelOptions(agent: string, options: ModelOptions | undefined): void {
  if (!options) return;
  const issue = firstIssue(options);
  const path = issue?.path === "(root)" ? "modelOptions" : `modelOptions.${issue?.path}`;
  if (issue) throw new TypeError(`agent "${agent}": ${path} ${issue.message}`);
}

/**
 * Why `toolChoice` cannot be honoured with these tools (it names a tool the model is not
 * given), or undefined when it can. `tools`: the names the model gets; `open`: more tools may
 * come at run time (MCP servers' tools are listed when the run starts), so a name not among
 * `tools` is left for the check at call time.
 */
export function toolChoiceProblem(
  choice: ToolChoice | undefined,
  tools: readonly string[],
  open = false,
): string | undefined {
  if (typeof choice !== "object" || tools.includes(choice.toolName) || open) return undefined;
  const known = tools.length > 0 ? `its tools are ${tools.join(", ")}` : "it has no tools";
  return `toolChoice.toolName names "${choice.toolName.slice(0, 128)}", a tool the model is not given (${known}); name one of them or use "auto", "none" or "required"`;
}

/**
 * What `prepareStep` returned, checked as the agent's options are: throws a TerminalError
 * `invalid_prepare_step` (the run fails at once: a retry would get the same answer) naming the
 * field, so a bad hook is one clear failure, not retries against the provider.
 */
export function checkPreparedStep(step: number, prepared: PrepareStepResult | undefined): void {
  if (prepared === undefined) return;
  const { model: _model, activeTools, system, ...options } = prepared;
  const problem = (path: string, message: string) =>
    new TerminalError(
      "invalid_prepare_step",
      `prepareStep's answer for step ${step}: ${path} ${message}; fix the agent's prepareStep`,
    );
  const issue = firstIssue(options);
  if (issue) throw problem(issue.path, issue.message);
  if (activeTools !== undefined && !(Array.isArray(activeTools) && activeTools.every(isString)))
    throw problem("activeTools", "must be an array of tool names");
  if (system !== undefined && typeof system !== "string")
    throw problem("system", "must be a string");
}

const isString = (value: unknown): value is string => typeof value === "string";

/** The first problem with a set of options, if any: `{ path: "topP", message }`. */
function firstIssue(options: unknown): SchemaIssue | undefined {
  const parsed = check(modelOptionsSchema, options);
  return parsed.success ? undefined : parsed.issues[0];
}
