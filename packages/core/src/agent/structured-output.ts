import type { JSONSchema7 } from "@ai-sdk/provider";
import * as z from "zod/mini";
import type { ErrorInfo, JsonValue } from "../ledger/events.ts";
import { check, type Schema } from "../validation/check.ts";
import type { AgentDefinition } from "./define-agent.ts";

/** The response format that asks the model for JSON matching `schema`. */
export function jsonFormat(schema: Schema) {
  return { type: "json" as const, schema: z.toJSONSchema(schema) as JSONSchema7 };
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
