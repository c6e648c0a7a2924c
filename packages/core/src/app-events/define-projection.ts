import type { JsonValue } from "../ledger/events.ts";
import type { AnyAppEvent, AppEventDefinition } from "./define-event.ts";

/**
 * Application projections: tables an app derives from its own events, kept in the same
 * transaction as each matching ledger insert (a reducer that throws rolls the insert back).
 * Each one is a keyed store of JSON documents in its own table, `app_<name>`.
 */

/** One application event as a reducer sees it: the stored fact, its payload typed by its definition. */
export type AppEventOf<E extends AnyAppEvent> =
  E extends AppEventDefinition<infer P, infer K>
    ? {
        readonly seq: number;
        readonly runId: string | null;
        readonly kind: K;
        readonly payload: P;
        /** Epoch ms when it was appended. */
        readonly ts: number;
      }
    : never;

/** What `reduce` writes through: the projection's own rows, by key. */
export interface ProjectionStore {
  /** The document at `key`, or undefined. */
  get<T extends JsonValue = JsonValue>(key: string): T | undefined;
  /** Creates or replaces the document at `key` (JSON; at most 1 MiB). */
  put(key: string, value: JsonValue): void;
  delete(key: string): void;
}

/** A page of a projection's documents, in key order. */
export interface ProjectionPage {
  readonly rows: { readonly key: string; readonly value: JsonValue }[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

/** How tools, triggers, handlers and endpoints read a projection (`ctx.projection(name)`). */
export interface ProjectionReader {
  get<T extends JsonValue = JsonValue>(key: string): T | undefined;
  /** Documents in key order: those whose key starts with `prefix`, after `after`, at most `limit` (default 100, max 1000). */
  list(options?: { prefix?: string; after?: string; limit?: number }): ProjectionPage;
}

export interface ProjectionDefinition<E extends AnyAppEvent = AnyAppEvent> {
  /** 1-48 lowercase letters, digits or _; the table is `app_<name>`. */
  readonly name: string;
  /**
   * Bump it when `reduce` changes meaning. A session whose stored rows were made by another
   * version reports `needs_rebuild` (`projectionStatus`) and is not read or updated until it
   * is rebuilt explicitly (`POST .../projections`, `durable-agents projections --rebuild`).
   */
  readonly version: number;
  /** The app events it reduces; other events never reach it. */
  readonly events: readonly E[];
  /** Applies one event, in the append's transaction. Throwing rolls the event back. Must not read the ledger. */
  reduce(store: ProjectionStore, event: AppEventOf<E>): void;
}

/** A projection of any events, as lists hold them. */
// biome-ignore lint/suspicious/noExplicitAny: each projection reduces its own events
export type AnyProjection = ProjectionDefinition<any>;

/**
 * Declares an application projection; register it with `createAgentServer({ projections })`.
 * Throws a TypeError for a bad name or version, or no events.
 * @example
 * defineProjection({
 *   name: "note_stats", version: 1, events: [noteAdded],
 *   reduce(store) { store.put("count", (store.get<number>("count") ?? 0) + 1) },
 * })
 */
export function defineProjection<E extends AnyAppEvent>(
  definition: ProjectionDefinition<E>,
): ProjectionDefinition<E> {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(definition.name))
    throw new TypeError(
      `projection name "${definition.name}" must be 1-48 lowercase letters, digits or _, starting with a letter (its table is app_<name>)`,
    );
  if (!Number.isInteger(definition.version) || definition.version < 1)
    throw new TypeError(
      `projection "${definition.name}": version must be a positive integer, got ${definition.version}`,
    );
  if (definition.events.length === 0)
    throw new TypeError(`projection "${definition.name}" reduces no events; list them in events`);
  return definition;
}
