import type { StandardSchemaV1 } from "@standard-schema/spec";
import * as z from "zod/mini";
import english from "zod/v4/locales/en.js";

/**
 * How the runtime validates: its own schemas are `zod/mini` (tree-shakable functions, so a
 * Worker carries the checks it uses and nothing else), and an app's schemas (app events,
 * trigger payloads, the agent's state and output schemas) may be classic zod or `zod/mini`:
 * both are zod 4 core schemas, parsed here by the same functions. The agent's state and
 * output schemas may also be any Standard Schema v1 (https://standardschema.dev: zod 3,
 * valibot, arktype, a hand-written one), checked through its `~standard.validate`.
 *
 * Invariants:
 * 1. Messages are zod's English, whatever the process's zod config says: every parse here
 *    passes zod's English error map itself. `zod/mini` loads no locale (its messages would be
 *    "Invalid input"), and classic zod or the AI SDK may set a global one at any time, so a
 *    message must not depend on which modules ran first. The English locale is the only one
 *    this imports (and the AI SDK's provider-utils imports the same module).
 * 2. One rendering of issues: `path: message`, joined with "; ", the path dotted or "(root)".
 * 3. An unknown field is an issue at its own path (`issueAt`).
 */
export type Schema<Output = unknown, Input = unknown> = z.core.$ZodType<Output, Input>;

/** A schema an app hands the runtime: a zod 4 schema, or any Standard Schema v1. */
export type AppSchema<Output = unknown> = Schema<Output> | StandardSchemaV1<unknown, Output>;

/** True for what `check` can parse: a zod 4 schema, or an object with `~standard.validate`. */
export function isAppSchema(value: unknown): value is AppSchema {
  // An arktype type is a function with "~standard".
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  if ("_zod" in value) return true;
  const standard = (value as { "~standard"?: { validate?: unknown } })["~standard"];
  return typeof standard?.validate === "function";
}

/** One problem with a value: where (`a.b.0`, or `(root)`) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

export type Checked<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly issues: SchemaIssue[]; readonly summary: string };

const englishMessages = english().localeError;
const context = { error: englishMessages } as const;

/** Parses `value` with `schema` (synchronously: no async refinements), every issue listed. */
export function check<T>(schema: Schema<T>, value: unknown): Checked<T>;
export function check<T>(schema: AppSchema<T>, value: unknown): Checked<T>;
export function check<T>(schema: AppSchema<T>, value: unknown): Checked<T> {
  if (!("_zod" in schema)) return checkStandard(schema, value);
  const result = z.safeParse(schema, value, context);
  if (result.success) return { success: true, data: result.data };
  return failed(result.error.issues as readonly StandardSchemaV1.Issue[]);
}

function checkStandard<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): Checked<T> {
  const result = schema["~standard"].validate(value);
  if ("then" in result)
    return failed([
      {
        path: [],
        message: `the ${schema["~standard"].vendor} schema validates asynchronously; state and output schemas must validate synchronously (no async refinements)`,
      },
    ]);
  if (!result.issues) return { success: true, data: result.value };
  return failed(result.issues);
}

function failed(found: readonly StandardSchemaV1.Issue[]): Checked<never> {
  const issues = found.flatMap(issueAt);
  return {
    success: false,
    issues,
    summary: summarize(issues),
  };
}

/** Invariant 2: issues as one line, `path: message` joined with "; ". */
export function summarize(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}

/**
 * Invariant 3: a field an object does not declare (zod's `unrecognized_keys`, one issue for all
 * of them) is one issue per field, at the field's own path (`mesage`, `input.mesage`), so a
 * caller sees which field to fix; a `closedObject`'s message says what the object takes.
 */
function issueAt(issue: StandardSchemaV1.Issue): SchemaIssue[] {
  const at = issuePath(issue);
  const keys =
    (issue as { code?: unknown; keys?: unknown }).code === "unrecognized_keys"
      ? (issue as { keys?: unknown }).keys
      : undefined;
  if (!Array.isArray(keys)) return [{ path: at || "(root)", message: issue.message }];
  // zod's own message ("Unrecognized key: ...") only repeats the key.
  const takes = issue.message.startsWith("Unrecognized key") ? "" : `; ${issue.message}`;
  return keys.map((key) => ({
    path: at ? `${at}.${String(key)}` : String(key),
    message: `unknown field ${JSON.stringify(String(key).slice(0, 60))}${takes}`,
  }));
}

/** Where a Standard Schema issue is: its path dotted (`a.b.0`), or "" at the root. */
export function issuePath(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? []).map((key) => String(typeof key === "object" ? key.key : key)).join(".");
}
