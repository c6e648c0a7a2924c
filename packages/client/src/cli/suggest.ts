import { closest, distance } from "fastest-levenshtein";

/**
 * The candidate closest to `input` by edit distance (fastest-levenshtein), if it is close
 * enough to be a typo: at most a third of its length, and at most 3 edits.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(input, candidates as string[]);
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  return distance(input, best) <= limit ? best : undefined;
}
