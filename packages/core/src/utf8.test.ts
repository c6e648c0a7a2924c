import { describe, expect, it } from "vitest";
import { utf8Length } from "./utf8.ts";

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
