import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt,
  LanguageModelV4ToolChoice,
  SharedV4ProviderOptions,
} from "@ai-sdk/provider";

/**
 * The call settings an AI SDK user passes to `streamText`, with the same names and meaning
 * (https://ai-sdk.dev/docs/ai-sdk-core/settings). Set per agent (`modelOptions`), and per
 * step with `prepareStep`, whose answer wins field by field.
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

/** The settings of one call: the agent's options, then the step's, as provider call options. */
export function callSettings(
  ...layers: (ModelOptions | undefined)[]
): Omit<LanguageModelV4CallOptions, "prompt"> {
  const merged: ModelOptions = Object.assign({}, ...layers.filter(Boolean));
  const { toolChoice, stopSequences, headers, ...rest } = merged;
  const out: Omit<LanguageModelV4CallOptions, "prompt"> = { ...rest };
  if (toolChoice !== undefined) out.toolChoice = providerToolChoice(toolChoice);
  if (stopSequences !== undefined) out.stopSequences = [...stopSequences];
  if (headers !== undefined) out.headers = { ...headers };
  return out;
}

function providerToolChoice(choice: ToolChoice): LanguageModelV4ToolChoice {
  return typeof choice === "string"
    ? { type: choice }
    : { type: "tool", toolName: choice.toolName };
}

const NUMBERS = [
  "temperature",
  "maxOutputTokens",
  "topP",
  "topK",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
] as const;

/** Throws a TypeError for settings no provider would take (checked when the agent is defined). */
export function checkModelOptions(agent: string, options: ModelOptions | undefined): void {
  if (!options) return;
  for (const key of NUMBERS) {
    const value = options[key];
    if (value !== undefined && !Number.isFinite(value))
      throw new TypeError(`agent "${agent}": modelOptions.${key} must be a finite number`);
  }
  if (
    options.maxOutputTokens !== undefined &&
    (!Number.isInteger(options.maxOutputTokens) || options.maxOutputTokens < 1)
  )
    throw new TypeError(
      `agent "${agent}": modelOptions.maxOutputTokens must be a positive integer`,
    );
}
