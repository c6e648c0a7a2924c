import { describe, expect, it } from "vitest";
import * as z from "zod";
import { scriptedModel } from "../model/scripted-model.ts";
import { defineAgent } from "./define-agent.ts";
import { type AnyTool, defineTool } from "./define-tool.ts";

const charge = {
  name: "charge",
  description: "Charge a card",
  input: z.object({ cents: z.number() }),
  effect: "irreversible",
  executor: "workflow",
  execute: () => ({ ok: true }),
} satisfies AnyTool;

describe("defineTool", () => {
  it("refuses an irreversible tool on Workflows, which may run execute() twice", () => {
    expect(() => defineTool(charge)).toThrow(/irreversible.*more than once.*idempotencyKey/);
  });

  it("refuses it in defineAgent too, when the tool is a plain object", () => {
    expect(() =>
      defineAgent({ name: "billing", system: "Bill.", model: scriptedModel(), tools: [charge] }),
    ).toThrow(/irreversible/);
  });

  it("accepts an idempotent tool on Workflows and an irreversible one inline", () => {
    expect(defineTool({ ...charge, effect: "idempotent" }).executor).toBe("workflow");
    expect(defineTool({ ...charge, executor: "inline" }).effect).toBe("irreversible");
  });
});
