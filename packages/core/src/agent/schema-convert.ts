import type { JSONSchema7 } from "@ai-sdk/provider";
import { asSchema, type FlexibleSchema } from "@ai-sdk/provider-utils";
import { registerJsonSchema, type ToolInputSchema } from "./tool-schema.ts";

/**
 * Gives `schema` its JSON Schema through the AI SDK's own `asSchema` (zod 3 and 4, classic or
 * `zod/mini`, any Standard Schema with JSON Schema support, `jsonSchema({...})`), exactly as
 * `streamText` would send it, and returns the same schema object: the runtime reads the
 * result when it asks the model (tool-schema.ts). Needed only for a schema that carries no
 * JSON Schema of its own (`zod/mini`, zod 3) where the runtime meets it without `defineTool`:
 * an agent's `outputSchema`, or a tool written as a plain object or with `tool()` from `ai`.
 *
 * It lives apart from tool-schema.ts because `asSchema`'s import brings zod's JSON Schema
 * generator and the AI SDK's zod 3 converter (84 KiB): only a Worker that defines a tool or
 * calls this carries them. Throws a TypeError naming `what` when the schema cannot be
 * converted, or when its JSON Schema is a promise.
 * @example
 * defineAgent({ ..., outputSchema: withJsonSchema(z.object({ done: z.boolean() })) }) // zod/mini
 */
export function withJsonSchema<S extends ToolInputSchema>(schema: S, what = "the schema"): S {
  let json: JSONSchema7 | PromiseLike<JSONSchema7>;
  try {
    json = asSchema(schema as FlexibleSchema<unknown>).jsonSchema;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `${what} cannot be converted to JSON Schema (${reason}); pass a zod schema, a Standard Schema with JSON Schema support, or jsonSchema({...}) from "ai"`,
    );
  }
  if (typeof (json as PromiseLike<JSONSchema7>).then === "function") {
    throw new TypeError(
      `${what} has a JSON Schema that is a promise; schemas are checked when they are defined, so pass jsonSchema({...}) a plain object`,
    );
  }
  registerJsonSchema(schema as object, json as JSONSchema7);
  return schema;
}
