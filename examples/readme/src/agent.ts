import { createOpenAI } from "@ai-sdk/openai";
import { defineAgent, defineTool } from "@durable-agents/core";
import { z } from "zod";

const toFahrenheit = defineTool({
  name: "to_fahrenheit",
  description: "Converts a temperature from Celsius to Fahrenheit",
  input: z.object({ celsius: z.number() }),
  effect: "pure", // after a crash it may simply run again
  execute: ({ celsius }) => ({ fahrenheit: celsius * 1.8 + 32 }),
});

export const assistant = defineAgent({
  name: "assistant",
  system: "You are concise. Use your tools for conversions.",
  // Any AI SDK model. A function of env reads the key from the Worker's secrets.
  model: ({ env }) => createOpenAI({ apiKey: String(env.OPENAI_API_KEY) }).chat("gpt-4o-mini"),
  tools: [toFahrenheit],
  maxSteps: 8,
});
