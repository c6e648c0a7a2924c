import { createOpenAI } from "@ai-sdk/openai";
import { defineAgent, defineTool } from "@durable-agents/core";
import * as z from "zod";

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
  // Any AI SDK model. A function of env reads the key (and OPENAI_BASE_URL, for any
  // OpenAI-compatible server) from the Worker's secrets and vars.
  model: ({ env }) =>
    createOpenAI({
      apiKey: String(env.OPENAI_API_KEY),
      baseURL: String(env.OPENAI_BASE_URL ?? "https://api.openai.com/v1"),
    }).chat("gpt-4o-mini"),
  tools: [toFahrenheit],
  maxSteps: 8,
});
