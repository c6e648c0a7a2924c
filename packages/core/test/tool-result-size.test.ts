import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, scriptedModel } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

/** A tool whose result is `chars` copies of "é": 2 bytes each in UTF-8, one UTF-16 code unit. */
function accentAgent(chars: number) {
  const accents = defineTool({
    name: "accents",
    description: "Returns accented text",
    input: z.object({}),
    effect: "pure",
    execute: () => "é".repeat(chars),
  });
  return defineAgent({
    name: "accents",
    system: "",
    tools: [accents],
    model: scriptedModel({
      turns: [{ toolCalls: [{ name: "accents", args: {} }] }, { text: "Done." }],
    }),
  });
}

async function toolOutcomes(chars: number, maxToolResultBytes: number) {
  const s = createTestSession(accentAgent(chars), { limits: { maxToolResultBytes } });
  await s.runtime.start({ message: "go" });
  await s.drain();
  return s.runtime.ledger
    .read(0)
    .flatMap((e) =>
      e.kind === "tool.failed"
        ? [e.data.error.code]
        : e.kind === "tool.completed"
          ? ["completed"]
          : [],
    );
}

describe("limits.maxToolResultBytes counts a result's JSON in UTF-8 bytes (docs/limits.md)", () => {
  // 60 × "é" is 62 UTF-16 code units of JSON ("…" with its quotes), but 122 UTF-8 bytes.
  it("fails a result over the limit in UTF-8 though under it in UTF-16 code units", async () => {
    expect(await toolOutcomes(60, 100)).toEqual(["tool_result_too_large"]);
  });

  it("keeps a result exactly at the limit", async () => {
    expect(await toolOutcomes(60, 122)).toEqual(["completed"]);
    expect(await toolOutcomes(60, 121)).toEqual(["tool_result_too_large"]);
  });
});
