import { z } from "zod";
import { defineAgent, defineTool, scriptedModel } from "../src/index.ts";

export const calculator = defineTool({
  name: "calculator",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  execute: ({ a, b }) => a + b,
});

/** Step 1 calls the calculator; step 2 answers with its result. */
export const mathAgent = defineAgent({
  name: "math",
  system: "You add numbers.",
  tools: [calculator],
  model: scriptedModel({
    chunkSize: 3,
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { text: "Let me add.", toolCalls: [{ name: "calculator", args: { a: 2, b: 3 } }] }
          : { text: `The answer is ${toolResults[0]?.output}.` },
    ],
  }),
});
