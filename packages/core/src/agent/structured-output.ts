import type { FlexibleSchema } from "@ai-sdk/provider-utils";
import type { ErrorInfo, JsonValue } from "../ledger/events.ts";
import { type AppSchema, check, isAppSchema } from "../validation/check.ts";
import type { AgentDefinition } from "./define-agent.ts";
import { jsonSchemaOf } from "./tool-schema.ts";

/**
 * The response format that asks the model for JSON matching the agent's outputSchema: its
 * JSON Schema as the AI SDK's `asSchema` makes it, as for a tool's input (tool-schema.ts).
 * Throws a TypeError when it has none (`defineAgent` asks first, so a run never does).
 */
export function jsonFormat(agent: string, schema: AppSchema) {
  return {
    type: "json" as const,
    schema: jsonSchemaOf(`agent "${agent}": its outputSchema`, schema as FlexibleSchema),
  };
}

/**
 * `defineAgent`'s check of a state or output schema: a zod 4 schema or any Standard Schema
 * (checked by its `~standard.validate`); an outputSchema also needs a JSON Schema.
 */
export function checkAgentSchema(
  agent: string,
  field: "stateSchema" | "outputSchema",
  schema: unknown,
): void {
  if (schema === undefined) return;
  if (!isAppSchema(schema))
    throw new TypeError(
      `agent "${agent}": ${field} must be a Standard Schema (an object with "~standard".validate: zod 3 or 4, valibot, arktype, ...)`,
    );
  if (field === "outputSchema") jsonFormat(agent, schema);
}

/** The run's output: the text, or with an outputSchema the parsed and validated object. */
export function finalOutput(
  agent: AgentDefinition,
  text: string,
): { ok: true; output: JsonValue } | { ok: false; error: ErrorInfo } {
  if (!agent.outputSchema) return { ok: true, output: text };
  let value: unknown;
  try {
    value = JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ""));
  } catch {
    return {
      ok: false,
      error: {
        code: "invalid_output",
        message: "the final answer is not JSON; the agent has an outputSchema",
      },
    };
  }
  const parsed = check(agent.outputSchema, value);
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: "invalid_output",
        message: `the final answer does not match the outputSchema: ${parsed.summary}; retry the run or adjust the prompt`,
      },
    };
  }
  return { ok: true, output: parsed.data as JsonValue };
}
