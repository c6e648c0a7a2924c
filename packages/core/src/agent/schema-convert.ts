import { asSchema, type FlexibleSchema } from "@ai-sdk/provider-utils";
import {
  GET_JSON_SCHEMA,
  noJsonSchema,
  registerJsonSchema,
  schemaSource,
  settleJsonSchema,
  type ToolInputSchema,
} from "./tool-schema.ts";

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
 * converted, or when its JSON Schema is a promise (tool-schema.ts `settleJsonSchema` says which).
 * @example
 * defineAgent({ ..., outputSchema: withJsonSchema(z.object({ done: z.boolean() })) }) // zod/mini
 */
export function withJsonSchema<S extends ToolInputSchema>(schema: S, what = "the schema"): S {
  const json = settleJsonSchema(
    what,
    () => {
      const source = schemaSource(schema);
      // asSchema converts a zod schema itself; any other needs its own JSON Schema.
      if (source === "standard" || source === "none") throw noJsonSchema(schema);
      return asSchema(schema as FlexibleSchema<unknown>).jsonSchema;
    },
    GET_JSON_SCHEMA,
  );
  registerJsonSchema(schema as object, json);
  return schema;
}
