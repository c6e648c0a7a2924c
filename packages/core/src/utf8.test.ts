import { describe, expect, it } from "vitest";
import { utf8Exceeds, utf8Length } from "./utf8.ts";

describe("utf8Length", () => {
  it("equals TextEncoder's byte length for ASCII, 2-, 3- and 4-byte characters and lone surrogates", () => {
    const samples = [
      "",
      "hello",
      "é",
      "naïve café",
      "€ and 中文",
      "emoji 😀 and 👩‍👩‍👧",
      "\ud800",
      "a\udc00b",
      "\ud83d",
      "x\ud83d\ud83d\ude00",
      JSON.stringify({ text: "Ω".repeat(1000), more: "𝄞".repeat(500) }),
    ];
    for (const text of samples)
      expect(utf8Length(text), JSON.stringify(text)).toBe(
        new TextEncoder().encode(text).byteLength,
      );
  });
});

describe("utf8Exceeds", () => {
  it("answers as the texts' summed byte length does, whether their length decides it or not", () => {
    const texts = ["", "abc", "中".repeat(10), "😀".repeat(10), "\ud800x", "a".repeat(30)];
    for (const a of texts)
      for (const b of texts) {
        const bytes = utf8Length(a) + utf8Length(b);
        for (const limit of [0, 1, bytes - 1, bytes, bytes + 1, 3 * (a.length + b.length)])
          expect(utf8Exceeds(limit, a, b), `${limit} ${a} ${b}`).toBe(bytes > limit);
      }
  });
});
