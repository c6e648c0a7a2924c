import { asSchema, jsonSchema, tool } from "ai";
import { type as ark } from "arktype";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import * as zm from "zod/mini";
import { latestRun } from "../ledger/projections/runs.ts";
import { scriptedModel } from "../model/scripted-model.ts";
import { createTestSession } from "../testing/test-session.ts";
import { defineAgent } from "./define-agent.ts";
import { type AnyTool, defineTool } from "./define-tool.ts";
import { toolSpecs } from "./prompt.ts";
import { withJsonSchema } from "./schema-convert.ts";
import { parseToolInput, toolJsonSchema } from "./tool-schema.ts";

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

describe("tool input schemas go through the AI SDK's schema helpers", () => {
  const base = { description: "d", effect: "pure" as const, execute: () => null };

  it("refuses, when the tool is defined, a schema whose root is not an object", () => {
    const union = z.discriminatedUnion("action", [
      z.object({ action: z.literal("add"), text: z.string() }),
      z.object({ action: z.literal("list") }),
    ]);
    expect(() => defineTool({ ...base, name: "notes", input: union })).toThrow(
      /tool "notes": its input schema must be an object at the root .*oneOf.*OpenAI and Anthropic refuse.*z\.object\(/,
    );
    expect(() => defineTool({ ...base, name: "s", input: z.string() })).toThrow(
      /root is "type": "string"/,
    );
    expect(() =>
      defineTool({ ...base, name: "j", input: jsonSchema({ anyOf: [{ type: "object" }] }) }),
    ).toThrow(/root is anyOf/);
  });

  it("emits a .default() field as optional, as the AI SDK sends it", () => {
    const tool = defineTool({
      ...base,
      name: "search",
      input: z.object({ query: z.string(), limit: z.number().default(10) }),
    });
    const [spec] = toolSpecs([tool]);
    expect(spec?.inputSchema).toMatchObject({
      type: "object",
      required: ["query"],
      properties: { limit: { type: "number", default: 10 } },
    });
  });

  it("accepts a JSON Schema (jsonSchema from ai) and a Standard Schema, and validates with them", async () => {
    const fromJson = defineTool({
      ...base,
      name: "j",
      input: jsonSchema<{ n: number }>(
        { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
        {
          validate: (v) =>
            typeof (v as { n?: unknown }).n === "number"
              ? { success: true, value: v as { n: number } }
              : { success: false, error: new Error("n must be a number") },
        },
      ),
    });
    expect(toolJsonSchema("j", fromJson.input)).toMatchObject({ type: "object" });
    expect(await parseToolInput("j", fromJson.input, { n: "x" })).toEqual({
      success: false,
      message: "n must be a number",
    });
    const standard = z.object({ when: z.coerce.date() });
    expect(await parseToolInput("w", standard, { when: 0 })).toEqual({
      success: true,
      value: { when: new Date(0) },
    });
    expect(await parseToolInput("w", z.object({ a: z.number() }), { a: "1" })).toMatchObject({
      success: false,
      message: expect.stringMatching(/^a: /),
    });
  });

  it("takes AI SDK tool({...}) objects keyed by name; they default to irreversible", async () => {
    const weather = tool({
      description: "Weather in a city",
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }, { toolCallId }) => ({ city, tempC: 21, toolCallId }),
    });
    const agent = defineAgent({
      name: "weather",
      system: "",
      tools: { weather, lookup: { ...weather, effect: "pure" } },
      model: scriptedModel({
        turns: [{ toolCalls: [{ name: "weather", args: { city: "Oslo" } }] }, { text: "done" }],
      }),
    });
    expect(agent.tools.map((t) => [t.name, t.effect])).toEqual([
      ["weather", "irreversible"],
      ["lookup", "pure"],
    ]);
    const s = createTestSession(agent);
    await s.runtime.start({ message: "weather?" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    const completed = s.runtime.ledger.read(0, 100).find((e) => e.kind === "tool.completed");
    expect(completed?.data).toMatchObject({
      name: "weather",
      result: { city: "Oslo", tempC: 21, toolCallId: expect.any(String) },
    });
  });

  it("refuses an AI SDK tool without execute, and a record key that is not the tool's name", () => {
    const clientSide = tool({ description: "d", inputSchema: z.object({}) });
    expect(() =>
      defineAgent({ name: "a", system: "", model: scriptedModel(), tools: { clientSide } }),
    ).toThrow(/"clientSide" has no execute\(\)/);
    const calc = defineTool({ ...base, name: "calc", input: z.object({}) });
    expect(() =>
      defineAgent({ name: "a", system: "", model: scriptedModel(), tools: { other: calc } }),
    ).toThrow(/under key "other" is named "calc"/);
  });
});

describe("the runtime reads JSON Schemas without asSchema (tool-schema.ts)", () => {
  const base = { description: "d", effect: "pure" as const, execute: () => null };
  // Fresh objects each call: a schema's JSON Schema is computed once per object.
  const schemas = () => ({
    flat: z.object({ q: z.string().default("x"), n: z.number().int().min(1).optional() }),
    nested: z.object({
      items: z.array(z.object({ kind: z.enum(["a", "b"]) })),
      pick: z.discriminatedUnion("t", [
        z.object({ t: z.literal("a") }),
        z.object({ t: z.literal("b"), on: z.boolean() }),
      ]),
      meta: z.record(z.string(), z.object({ v: z.union([z.string(), z.null()]) })),
      when: z.iso.datetime().describe("when"),
    }),
    json: jsonSchema({ type: "object", properties: { a: { type: "string" } } }),
  });

  it("a classic zod or jsonSchema() input not given to defineTool gets asSchema's exact JSON Schema", () => {
    const ours = schemas();
    const theirs = schemas();
    for (const key of Object.keys(ours) as (keyof typeof ours)[])
      expect(toolJsonSchema(key, ours[key])).toEqual(asSchema(theirs[key]).jsonSchema);
  });

  it("a zod/mini input works through defineTool or withJsonSchema, and elsewhere fails naming them", async () => {
    const mini = () => zm.object({ a: zm.number() });
    const defined = defineTool({ ...base, name: "m", input: mini() });
    expect(toolSpecs([defined])[0]?.inputSchema).toEqual(asSchema(mini()).jsonSchema);
    expect(toolSpecs([defined])[0]?.inputSchema).toMatchObject({ additionalProperties: false });
    const plain = { ...base, name: "p", input: mini() } satisfies AnyTool;
    expect(() =>
      defineAgent({ name: "a", system: "", model: scriptedModel(), tools: [plain] }),
    ).toThrow(
      /tool "p": its input schema .*define the tool with defineTool, wrap it in withJsonSchema\(schema\)/,
    );
    const sdk = tool({ description: "d", inputSchema: withJsonSchema(mini()), execute: () => 1 });
    const agent = defineAgent({ name: "a", system: "", model: scriptedModel(), tools: { sdk } });
    expect(toolSpecs(agent.tools)[0]?.inputSchema).toMatchObject({ type: "object" });
    expect(await parseToolInput("sdk", sdk.inputSchema, { a: "1" })).toMatchObject({
      success: false,
    });
  });
});

describe("a schema's own JSON Schema, from libraries other than zod (review)", () => {
  const base = { description: "d", effect: "pure" as const, execute: (input: unknown) => input };

  it("an arktype input (a callable Standard Schema) in tool() from ai or a plain tool gets asSchema's JSON Schema and validation", async () => {
    // arktype interns types by definition: one definition per case, none given to defineTool.
    const viaSdk = ark({ city: "string", "days?": "number" });
    const plainInput = ark({ town: "string" });
    const sdk = tool({ description: "d", inputSchema: viaSdk, execute: (input) => input });
    const plain = { ...base, name: "plain", input: plainInput } satisfies AnyTool;
    const agent = defineAgent({
      name: "ark",
      system: "",
      model: scriptedModel(),
      tools: { sdk, plain },
    });
    const [sdkSpec, plainSpec] = toolSpecs(agent.tools);
    expect(sdkSpec?.inputSchema).toEqual(asSchema(viaSdk).jsonSchema);
    expect(plainSpec?.inputSchema).toEqual(asSchema(plainInput).jsonSchema);
    expect(sdkSpec?.inputSchema).toMatchObject({ additionalProperties: false });
    expect(await parseToolInput("sdk", viaSdk, { city: 1 })).toEqual({
      success: false,
      message: expect.stringContaining("city"),
    });
    expect(await parseToolInput("sdk", viaSdk, { city: "Oslo" })).toEqual({
      success: true,
      value: { city: "Oslo" },
    });
  });

  it("a non-zod Standard Schema without JSON Schema is told to get one, not to use defineTool or withJsonSchema (whose asSchema converts only zod)", () => {
    const bare = {
      "~standard": { version: 1, vendor: "valibot", validate: (value: unknown) => ({ value }) },
    } as const;
    const plain = { ...base, name: "bare", input: bare } satisfies AnyTool;
    const fails = [
      () => defineAgent({ name: "a", system: "", model: scriptedModel(), tools: [plain] }),
      () => defineAgent({ name: "a", system: "", model: scriptedModel(), outputSchema: bare }),
      () => defineTool(plain),
    ];
    for (const fail of fails) {
      expect(fail).toThrow(/this valibot schema carries no JSON Schema of its own/);
      expect(fail).toThrow(/toStandardJsonSchema/);
      expect(fail).not.toThrow(/withJsonSchema|defineTool|zod\/mini/);
    }
  });

  it("a classic zod schema JSON Schema cannot express fails naming the field's type, not withJsonSchema (which fails the same)", () => {
    const dated = () => z.object({ when: z.date() });
    const sdk = tool({ description: "d", inputSchema: dated(), execute: () => 1 });
    const fails = [
      () => defineAgent({ name: "a", system: "", model: scriptedModel(), tools: { sdk } }),
      () => defineAgent({ name: "a", system: "", model: scriptedModel(), outputSchema: dated() }),
      () => defineTool({ ...base, name: "d", input: dated() }),
      () => withJsonSchema(dated()),
    ];
    for (const fail of fails) {
      expect(fail).toThrow(/Date cannot be represented in JSON Schema/);
      expect(fail).toThrow(
        /JSON Schema \(what the model is shown\) cannot express part of it: use JSON types/,
      );
      expect(fail).not.toThrow(/withJsonSchema|pass a zod schema/);
    }
  });
});
