import { BadRequestError } from "../errors/http-errors.ts";
import type { AppEventKind, AppEventPrefix, JsonValue, NewEvent } from "../ledger/events.ts";
import { check, type Schema } from "../validation/check.ts";

/**
 * Application events: facts an app records in a session's ledger beside the runtime's own.
 * Their kinds live in the `app.` namespace (`AppEventKind`, ledger/events.ts), which no
 * runtime kind uses, so an app event can never be read as a runtime fact.
 */
export const APP_EVENT_PREFIX: AppEventPrefix = "app.";

/** An application event kind and the schema its payloads are validated with. */
export interface AppEventDefinition<Payload = unknown, Kind extends AppEventKind = AppEventKind> {
  /** The kind as stored in the ledger: `app.<name>`. */
  readonly kind: Kind;
  /** The name it was declared with (`note.added`). */
  readonly name: string;
  /** Validates every payload before it is appended (a zod 4 schema, classic or `zod/mini`); its output must be JSON. */
  readonly schema: Schema<Payload>;
}

/** A definition of any payload type, as lists hold them. */
// biome-ignore lint/suspicious/noExplicitAny: payload types differ per event; each validates its own
export type AnyAppEvent = AppEventDefinition<any, AppEventKind>;

/** The payload type of an event definition. */
export type PayloadOf<E> = E extends AppEventDefinition<infer P, AppEventKind> ? P : never;

/** 400 `invalid_app_event`: a payload that does not match its event's schema. */
export class InvalidAppEventError extends BadRequestError {
  override name = "InvalidAppEventError";
  constructor(kind: string, summary: string, issues: unknown) {
    super(
      "invalid_app_event",
      `the payload for app event "${kind}" does not match its schema (defineEvent): ${summary}`,
      { details: { kind, issues } },
    );
  }
}

/**
 * Declares an application event kind. Append it with `ctx.emit(event, payload)` from a
 * tool, a trigger, an `on` handler or a custom endpoint; reduce it with `defineProjection`.
 * Throws a TypeError for a bad name (1-64 lowercase letters, digits, `_ . -`).
 * @example
 * const noteAdded = defineEvent("note.added", z.object({ text: z.string() }));
 */
export function defineEvent<const Name extends string, Payload>(
  name: Name,
  schema: Schema<Payload>,
): AppEventDefinition<Payload, `${AppEventPrefix}${Name}`> {
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(name)) {
    throw new TypeError(
      `app event name "${name}" must be 1-64 lowercase letters, digits, _ . or -, starting with a letter; it is stored as "${APP_EVENT_PREFIX}${name}"`,
    );
  }
  return { kind: `${APP_EVENT_PREFIX}${name}`, name, schema };
}

/** True for the kinds of application events. */
export function isAppEventKind(kind: string): kind is AppEventKind {
  return kind.startsWith(APP_EVENT_PREFIX);
}

/**
 * The ledger event for `payload`, validated by its event's schema (InvalidAppEventError
 * otherwise) and made JSON. Appending it is the caller's: it checks nothing else.
 */
export function appEvent<Payload>(
  definition: AppEventDefinition<Payload>,
  payload: Payload,
  runId: string | null,
): NewEvent {
  const result = check(definition.schema, payload);
  if (!result.success)
    throw new InvalidAppEventError(definition.kind, result.summary, result.issues);
  const json = JSON.stringify(result.data ?? null);
  return { kind: definition.kind, runId, data: JSON.parse(json) as JsonValue };
}
