import type { JSONSchema7 } from "@ai-sdk/provider";
import {
  asSchema,
  type FlexibleSchema,
  type Schema,
  type ValidationResult,
} from "@ai-sdk/provider-utils";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { issuePath } from "../validation/check.ts";

/**
 * A tool's input schema, through the AI SDK's own schema helpers (`asSchema` from
 * `@ai-sdk/provider-utils`): a zod schema (v3 or v4), any Standard Schema with a JSON Schema
 * converter (valibot, arktype, ...), or a JSON Schema wrapped in `jsonSchema(...)`. The model
 * sees what the AI SDK would send (`io: "input"`, so a field with `.default()` is optional).
 *
 * Invariants:
 * 1. The JSON Schema the provider sees has `"type": "object"` at its root. OpenAI's chat API
 *    answers 400 for function parameters that are not an object, Anthropic's messages API for
 *    an `input_schema` without `type: "object"`: `defineTool` refuses such a schema up front.
 * 2. Input is validated by the same schema object the model was shown: its Standard Schema
 *    `validate`, or the `validate` of a `jsonSchema(...)` (none: any JSON is accepted).
 */
export type ToolInputSchema<Input = unknown> = FlexibleSchema<Input>;

export type ToolInputResult<Input> =
  | { readonly success: true; readonly value: Input }
  | { readonly success: false; readonly message: string };

interface Converted {
  readonly schema: Schema<unknown>;
  readonly json: JSONSchema7;
}

const converted = new WeakMap<object, Converted>();

/**
 * The JSON Schema of a tool's input, checked: its root must be an object. Computed once per
 * schema object. Throws a TypeError that says what to do otherwise.
 */
export function toolJsonSchema(toolName: string, input: ToolInputSchema): JSONSchema7 {
  const json = jsonSchemaOf(`tool "${toolName}": its input schema`, input);
  checkRoot(toolName, json);
  return json;
}

/**
 * The JSON Schema of any schema `asSchema` takes (a tool's input, an agent's outputSchema),
 * computed once per schema object. Throws a TypeError naming `what` when it has none.
 */
export function jsonSchemaOf(what: string, input: ToolInputSchema): JSONSchema7 {
  return convert(what, input).json;
}

function convert(what: string, input: ToolInputSchema): Converted {
  const key = input as object;
  const known = converted.get(key);
  if (known) return known;
  let schema: Schema<unknown>;
  let json: JSONSchema7 | PromiseLike<JSONSchema7>;
  try {
    schema = asSchema(input as FlexibleSchema<unknown>);
    json = schema.jsonSchema;
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
  const entry = { schema, json: json as JSONSchema7 };
  converted.set(key, entry);
  return entry;
}

function checkRoot(toolName: string, json: JSONSchema7): void {
  if (json.type === "object") return;
  const root =
    json.type !== undefined
      ? `"type": ${JSON.stringify(json.type)}`
      : (["anyOf", "oneOf", "allOf", "$ref", "enum", "const"] as const).find((k) => k in json);
  throw new TypeError(
    `tool "${toolName}": its input schema must be an object at the root (JSON Schema "type": "object"), but its root is ${root ?? "untyped"}; OpenAI and Anthropic refuse such a tool. Wrap it, e.g. z.object({ request: yourUnion }), or for a choice of shapes use one z.object with a z.enum() field and optional fields`,
  );
}

/**
 * Validates a tool call's arguments against the tool's schema. Returns a result, or a promise
 * of one when the schema validates asynchronously (zod refinements, some Standard Schemas).
 */
export function parseToolInput<Input>(
  toolName: string,
  input: ToolInputSchema<Input>,
  value: unknown,
): ToolInputResult<Input> | Promise<ToolInputResult<Input>> {
  const standard = (input as { "~standard"?: StandardProps })["~standard"];
  if (standard) {
    const result = standard.validate(value);
    return isPromise(result)
      ? Promise.resolve(result).then((r) => fromStandard<Input>(r))
      : fromStandard<Input>(result);
  }
  const { validate } = convert(`tool "${toolName}": its input schema`, input).schema;
  if (!validate) return { success: true, value: value as Input };
  const result = validate(value);
  const done = (r: ValidationResult<unknown>): ToolInputResult<Input> =>
    r.success
      ? { success: true, value: r.value as Input }
      : { success: false, message: r.error.message };
  return isPromise(result) ? Promise.resolve(result).then(done) : done(result);
}

type StandardResult = StandardSchemaV1.Result<unknown>;
interface StandardProps {
  validate(value: unknown): StandardResult | Promise<StandardResult>;
}

function fromStandard<Input>(result: StandardResult): ToolInputResult<Input> {
  if (!result.issues) return { success: true, value: result.value as Input };
  const message = result.issues
    .map((issue) => {
      const path = issuePath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
  return { success: false, message };
}

function isPromise<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === "function";
}
