import { TerminalError } from "@durable-agents/core";
import { DEFAULT_INDEX_BINDING, isD1 } from "./index-port.ts";

export { isD1 } from "./index-port.ts";

/**
 * The D1 index spread over K databases ("shards") by session key.
 *
 * Invariants:
 * 1. A shard is named by its binding. A session's rows live in one shard, chosen by
 *    rendezvous (highest random weight) hashing of "agent/session" against the shard
 *    names: the same key and names always give the same shard, in any order of names.
 * 2. Adding a shard moves only the sessions it wins (about 1/(K+1) of them); removing
 *    one moves only its own. Nothing else moves.
 * 3. Reads (`GET /sessions`, `GET /usage`) query every shard and merge; they never need
 *    the hash, so a reader that sees more shards than the writers use is still correct.
 * 4. A session records the shard its row was last written to (its `index_shard` table).
 *    When the shards change and its shard with them, its next status delivery writes the
 *    row in the new shard, then deletes it (and its tags) from the old one, so it is listed
 *    once. Usage entries stay where they were written; reads sum every shard.
 */

/** Which D1 bindings hold the index. */
export interface IndexShardOptions {
  /** The first (or only) D1 binding; defaults to INDEX_DB. */
  readonly binding?: string;
  /**
   * How many D1 databases the index is spread over, or their binding names. A number K
   * names them `binding`, `binding_1`, …, `binding_{K-1}` (INDEX_DB, INDEX_DB_1,
   * INDEX_DB_2 for 3). Default 1. A session's shard depends on these names (invariant 1).
   */
  readonly shards?: number | readonly string[];
}

/** The most shards an index may have (each `GET /sessions` page queries all of them). */
export const MAX_INDEX_SHARDS = 64;

const DEFAULT_BINDING = DEFAULT_INDEX_BINDING;

/** The binding names of the shards, in order. @throws RangeError on a bad count or list. */
export function shardBindings(options: IndexShardOptions = {}): readonly string[] {
  const base = options.binding ?? DEFAULT_BINDING;
  const shards = options.shards ?? 1;
  const names =
    typeof shards === "number"
      ? Number.isSafeInteger(shards) && shards >= 1 && shards <= MAX_INDEX_SHARDS
        ? Array.from({ length: shards }, (_, i) => (i === 0 ? base : `${base}_${i}`))
        : []
      : [...shards];
  if (names.length === 0 || names.length > MAX_INDEX_SHARDS || new Set(names).size < names.length)
    throw new RangeError(
      `index shards must be a count from 1 to ${MAX_INDEX_SHARDS} or a list of distinct D1 binding names; got ${JSON.stringify(shards)}`,
    );
  return names;
}

/**
 * The shards' D1 databases from the env. With `shards` unset, reads every binding found
 * by the naming convention (`binding`, `binding_1`, … while they exist), so a Worker's
 * routes read all shards the sessions write to without repeating the count (invariant 3).
 * @throws TerminalError `index_not_bound` when a named binding is not a D1 database.
 */
export function indexShards(
  env: Record<string, unknown>,
  options: IndexShardOptions = {},
): { names: readonly string[]; dbs: readonly D1Database[] } {
  const names =
    options.shards === undefined ? discover(env, options.binding) : shardBindings(options);
  const missing = names.filter((name) => !isD1(env[name]));
  if (missing.length > 0)
    throw new TerminalError(
      "index_not_bound",
      `the D1 index needs a D1 database bound as ${missing.join(", ")} in wrangler.jsonc (d1_databases); shards: ${names.join(", ")}`,
    );
  return { names, dbs: names.map((name) => env[name] as D1Database) };
}

function discover(env: Record<string, unknown>, binding = DEFAULT_BINDING): string[] {
  const names = [binding];
  while (names.length < MAX_INDEX_SHARDS && isD1(env[`${binding}_${names.length}`]))
    names.push(`${binding}_${names.length}`);
  return names;
}

/** The index (into `names`) of the shard that holds a session's rows (invariant 1). */
export function shardOf(names: readonly string[], agent: string, session: string): number {
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < names.length; i++) {
    const score = hash32(`${names[i]}\n${agent}/${session}`);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** FNV-1a over UTF-16 code units, then murmur3's fmix32 so near keys spread. Unsigned 32 bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
