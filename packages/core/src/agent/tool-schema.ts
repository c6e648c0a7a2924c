import type { JSONSchema7 } from "@ai-sdk/provider";
import type { FlexibleSchema, Schema, ValidationResult } from "@ai-sdk/provider-utils";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { issuePath } from "../validation/check.ts";

/**
 * A tool's input schema, as the AI SDK takes one (`FlexibleSchema`): a zod schema (v3 or v4),
 * any Standard Schema, a JSON Schema wrapped in `jsonSchema(...)` from `ai`, or a lazy one. The
 * model sees what the AI SDK's `asSchema` would send (`io: "input"`, so a field with
 * `.default()` is optional, and `additionalProperties: false` on every object).
 *
 * This module is what the runtime reads schemas with; it does not import `asSchema`, whose
 * import carries zod's JSON Schema generator and the AI SDK's zod 3 converter (84 KiB of a
 * Worker, docs/benchmarks.md, "The tool-schema path out of a tool-less Worker"). The JSON
 * Schema comes from, in order:
 * 1. what `asSchema` made for this schema object when it was given to `defineTool`,
 *    `defineSubagent` or `withJsonSchema` (schema-convert.ts, registered below);
 * 2. the schema itself: a `jsonSchema({...})` (or `zodSchema(...)`) from `ai`, or a Standard
 *    Schema with Standard JSON Schema (`~standard.jsonSchema`: classic zod 4.2+, arktype,
 *    valibot's `toStandardJsonSchema`), converted exactly as `asSchema` converts it, with the
 *    schema's own library (classic zod's `z.object` already carries its generator).
 * Anything else (a `zod/mini` or zod 3 schema handed over without one of those) throws a
 * TypeError naming `withJsonSchema`.
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

/** JSON Schemas by schema object: `asSchema`'s (schema-convert.ts) and the ones read here. */
const jsonSchemas = new WeakMap<object, JSONSchema7>();

/** Records `json` as `schema`'s JSON Schema (schema-convert.ts, after `asSchema`). */
export function registerJsonSchema(schema: object, json: JSONSchema7): void {
  jsonSchemas.set(schema, json);
}

/**
 * The JSON Schema of a tool's input, checked: its root must be an object. Computed once per
 * schema object. Throws a TypeError that says what to do otherwise.
 */
export function toolJsonSchema(toolName: string, input: ToolInputSchema): JSONSchema7 {
  const json = jsonSchemaOf(`tool "${toolName}": its input schema`, input, "tool");
  checkRoot(toolName, json);
  return json;
}

/**
 * The JSON Schema of a tool's input or an agent's outputSchema (see the module comment),
 * computed once per schema object. Throws a TypeError naming `what` when it has none.
 */
export function jsonSchemaOf(
  what: string,
  input: ToolInputSchema,
  kind: "tool" | "output" = "output",
): JSONSchema7 {
  const key = input as object;
  const known = jsonSchemas.get(key);
  if (known) return known;
  const json = settleJsonSchema(
    what,
    () => readJsonSchema(input),
    remedy(kind, schemaSource(input)),
  );
  jsonSchemas.set(key, json);
  return json;
}

/**
 * Runs `convert` (this module's reading, or schema-convert.ts's `asSchema`) and renders its
 * failure, in one place: a schema with no converter (`NoJsonSchemaError`, `missing` says what
 * to do) or one its converter could not express (a `z.date()` field), or a promised JSON Schema.
 * Throws a TypeError naming `what`.
 */
export function settleJsonSchema(
  what: string,
  convert: () => JSONSchema7 | PromiseLike<JSONSchema7>,
  missing: string,
): JSONSchema7 {
  let json: JSONSchema7 | PromiseLike<JSONSchema7>;
  try {
    json = convert();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const advice = error instanceof NoJsonSchemaError ? missing : INEXPRESSIBLE;
    throw new TypeError(`${what} cannot be converted to JSON Schema (${reason}); ${advice}`);
  }
  if (isPromise(json)) {
    throw new TypeError(
      `${what} has a JSON Schema that is a promise; schemas are checked when they are defined, so pass jsonSchema({...}) a plain object`,
    );
  }
  return json;
}

/** A schema that has nothing to make a JSON Schema with (as opposed to one its converter refuses). */
export class NoJsonSchemaError extends Error {}

const INEXPRESSIBLE =
  "JSON Schema (what the model is shown) cannot express part of it: use JSON types there (z.iso.datetime() for a date, z.number() or z.string() for a bigint; no z.custom(), z.function(), z.map(), z.set() or z.undefined())";

/** What to do about a schema with no JSON Schema: asSchema converts a zod one, nothing else. */
function remedy(kind: "tool" | "output", source: ReturnType<typeof schemaSource>): string {
  if (source !== "zod") return GET_JSON_SCHEMA;
  const wrap = `wrap it in withJsonSchema(schema) from "@durable-agents/core" (the AI SDK's asSchema converts it there)`;
  const or = `or pass a classic zod 4 schema, a Standard Schema with JSON Schema support, or jsonSchema({...}) from "ai"`;
  return kind === "tool" ? `define the tool with defineTool, ${wrap}, ${or}` : `${wrap}, ${or}`;
}

/** What to do about a schema that is not zod's and has no JSON Schema (here and in withJsonSchema). */
export const GET_JSON_SCHEMA = `give it one: a Standard Schema with "~standard".jsonSchema (classic zod 4.2+, arktype, valibot's toStandardJsonSchema from "@valibot/to-json-schema"), or jsonSchema({...}) from "ai"`;

type StandardWithJson = StandardSchemaV1.Props & {
  readonly jsonSchema?: { input(options: { target: string }): Record<string, unknown> };
};

/**
 * Where `input`'s JSON Schema comes from, in `asSchema`'s order (an AI SDK schema, then a
 * Standard Schema, then a lazy schema: an arktype type is a function with "~standard"):
 * `ai-sdk` (`jsonSchema(...)`, `zodSchema(...)`), `standard-json` (`~standard.jsonSchema`),
 * `zod` (a zod schema without it: zod/mini, zod 3; asSchema converts it), `standard` (a
 * Standard Schema without it), `lazy` (`() => schema`), or `none`.
 */
export function schemaSource(
  input: unknown,
): "ai-sdk" | "standard-json" | "zod" | "standard" | "lazy" | "none" {
  if (input === null || (typeof input !== "object" && typeof input !== "function")) return "none";
  if ((input as { [AI_SDK_SCHEMA]?: unknown })[AI_SDK_SCHEMA] === true) return "ai-sdk";
  const standard = (input as { "~standard"?: StandardWithJson })["~standard"];
  if (standard) {
    if (typeof standard.jsonSchema?.input === "function") return "standard-json";
    return standard.vendor === "zod" ? "zod" : "standard";
  }
  return typeof input === "function" ? "lazy" : "none";
}

/** Throws a NoJsonSchemaError for a schema with no JSON Schema of its own. */
function readJsonSchema(input: ToolInputSchema): JSONSchema7 | PromiseLike<JSONSchema7> {
  const source = schemaSource(input);
  if (source === "ai-sdk" || source === "lazy")
    return (aiSdkSchema(input) as Schema<unknown>).jsonSchema;
  const standard = (input as { "~standard"?: StandardWithJson })["~standard"];
  if (source === "standard-json" && standard?.jsonSchema)
    // What asSchema does (provider-utils `standardSchema`, and for zod 4 `toJSONSchema` with
    // the same target and io): draft-07 of the input type, every object closed.
    return closeObjects(standard.jsonSchema.input({ target: "draft-07" }) as JSONSchema7);
  throw noJsonSchema(input);
}

/** Why `input` (a Standard Schema without `~standard.jsonSchema`, or no schema) has no JSON Schema. */
export function noJsonSchema(input: unknown): NoJsonSchemaError {
  const vendor = (input as { "~standard"?: { vendor?: string } } | null)?.["~standard"]?.vendor;
  if (vendor === undefined)
    return new NoJsonSchemaError("it is not a zod schema, a Standard Schema or jsonSchema({...})");
  const zod =
    vendor === "zod" ? ": zod/mini and zod 3 schemas have none; classic zod has it since 4.2" : "";
  return new NoJsonSchemaError(
    `this ${vendor} schema carries no JSON Schema of its own (no "~standard".jsonSchema${zod})`,
  );
}

/** The AI SDK's `Symbol.for("vercel.ai.schema")` mark of `jsonSchema(...)` and `zodSchema(...)`. */
const AI_SDK_SCHEMA = Symbol.for("vercel.ai.schema");
const resolvedLazy = new WeakMap<object, Schema<unknown>>();

/** `input` as an AI SDK `Schema` (a lazy one resolved once), or undefined when it is not one. */
function aiSdkSchema(input: ToolInputSchema): Schema<unknown> | undefined {
  const source = schemaSource(input);
  if (source === "ai-sdk") return input as Schema<unknown>;
  if (source !== "lazy") return undefined;
  const known = resolvedLazy.get(input);
  if (known) return known;
  const schema = (input as () => Schema<unknown>)();
  resolvedLazy.set(input, schema);
  return schema;
}

/**
 * `additionalProperties: false` on every object of `json` that does not say otherwise, in
 * place: provider-utils' `addAdditionalPropertiesToJsonSchema` (5.0.81), which it does not
 * export and applies inside `asSchema`, whose import costs a Worker 84 KiB (see the module
 * comment). test/ checks this against `asSchema` itself.
 */
function closeObjects(json: JSONSchema7): JSONSchema7 {
  const types = json.type;
  if (types === "object" || (Array.isArray(types) && types.includes("object"))) {
    const extra = json.additionalProperties;
    json.additionalProperties =
      extra != null && typeof extra !== "boolean" ? closeObjects(extra) : false;
    const properties = json.properties;
    if (properties != null)
      for (const key of Object.keys(properties)) properties[key] = visit(properties[key]);
  }
  if (json.items != null)
    json.items = Array.isArray(json.items) ? json.items.map(visit) : visit(json.items);
  if (json.anyOf != null) json.anyOf = json.anyOf.map(visit);
  if (json.allOf != null) json.allOf = json.allOf.map(visit);
  if (json.oneOf != null) json.oneOf = json.oneOf.map(visit);
  const definitions = json.definitions;
  if (definitions != null)
    for (const key of Object.keys(definitions)) definitions[key] = visit(definitions[key]);
  return json;
}

function visit<T extends JSONSchema7 | boolean | undefined>(json: T): T {
  return (typeof json === "object" ? closeObjects(json) : json) as T;
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
  const schema = aiSdkSchema(input);
  if (!schema) jsonSchemaOf(`tool "${toolName}": its input schema`, input, "tool"); // throws
  const validate = schema?.validate;
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
