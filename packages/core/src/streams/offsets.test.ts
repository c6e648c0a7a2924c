import { describe, expect, it } from "vitest";
import { forkLineage, formatOffset, newTag, parseOffset, ZERO_OFFSET } from "./offsets.ts";

describe("offsets", () => {
  const source = [{ tag: newTag(1), upTo: null }];
  const fork = forkLineage(source, 10, newTag(2));

  it("round-trips positions and sorts as text", () => {
    const offsets = [0, 1, 9, 10, 11, 12_345].map((p) => formatOffset(fork, p));
    expect(offsets[0]).toBe(ZERO_OFFSET);
    expect([...offsets].sort()).toEqual(offsets);
    for (const [i, p] of [0, 1, 9, 10, 11, 12_345].entries())
      expect(parseOffset(offsets[i] as string, fork, 20_000)).toBe(p);
  });

  it("shares the source's offsets up to the fork point", () => {
    expect(formatOffset(fork, 10)).toBe(formatOffset(source, 10));
    expect(formatOffset(fork, 11)).not.toBe(formatOffset(source, 11));
  });

  it("rejects malformed, foreign and future offsets", () => {
    expect(() => parseOffset("0,1", source, 5)).toThrow(/malformed/);
    expect(() => parseOffset(formatOffset(source, 11), fork, 20)).toThrow(
      /not issued by this stream/,
    );
    expect(() => parseOffset(formatOffset(source, 6), source, 5)).toThrow(/not issued/);
  });
});
