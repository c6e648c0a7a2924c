/**
 * The step-cost bench's peers: the same scripted model (bench/step-cost/agent.ts) read
 * without a ledger, so that a durable step has something to be divided by.
 *
 * - `bareStep`: the bare loop. The model's stream read part by part, the prompt kept
 *   in an array, the tool called inline: the floor of reading this model at all.
 * - `aiSdkStep`: the AI SDK's own agent loop (`streamText` with the same tool and
 *   `stopWhen: stepCountIs(STEPS)`): what an application that does not need durability
 *   writes instead, with the SDK's validation of the tool's input, its step bookkeeping and
 *   stream transforms, and nothing stored.
 */
import type { LanguageModelV4, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { isStepCount, streamText, tool } from "ai";
import * as z from "zod";
import { benchAgent as agent, STEPS } from "./agent.ts";
import { median } from "./http.ts";

function scripted(): LanguageModelV4 {
  const model = agent.model;
  if (typeof model === "string" || typeof model === "function") throw new Error("model");
  return model;
}

/** One "work" run of STEPS model calls, prompt kept in an array, the tool called inline. */
async function bareRun(): Promise<number> {
  const model = scripted();
  const prompt: LanguageModelV4Prompt = [
    { role: "system", content: "You are a benchmark." },
    { role: "user", content: [{ type: "text", text: "work" }] },
  ];
  const t = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const { stream } = await model.doStream({ prompt });
    let text = "";
    for await (const part of stream as unknown as AsyncIterable<{
      type: string;
      delta?: string;
      input?: string;
    }>) {
      if (part.type === "text-delta") text += part.delta ?? "";
      if (part.type === "tool-call") {
        const args = JSON.parse(part.input ?? "{}") as { a: number; b: number };
        text += String(args.a + args.b);
      }
    }
    prompt.push({ role: "assistant", content: [{ type: "text", text }] });
  }
  return (performance.now() - t) / STEPS;
}

/** The same tool as the bench agent's `add`, declared for the AI SDK. */
const add = tool({
  description: "Adds two numbers",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

/** One "work" run through the AI SDK's agent loop; checks it took STEPS steps. */
async function aiSdkRun(): Promise<number> {
  const t = performance.now();
  const result = streamText({
    model: scripted(),
    system: "You are a benchmark.",
    prompt: "work",
    tools: { add },
    stopWhen: isStepCount(STEPS),
  });
  await result.consumeStream();
  const steps = (await result.steps).length;
  if (steps !== STEPS) throw new Error(`the AI SDK loop took ${steps} steps, not ${STEPS}`);
  return (performance.now() - t) / STEPS;
}

async function timed(run: () => Promise<number>, samples: number): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await run());
  return median(times);
}

/** ms per step, median of `samples` runs after five warm-up runs. */
export const bareStep = (samples: number) => timed(bareRun, samples);
export const aiSdkStep = (samples: number) => timed(aiSdkRun, samples);
