/** Agents the client tests run on the real core handler (see real-server.ts). Scripted models only. */
import {
  type AgentDefinition,
  defineAgent,
  defineTool,
  scriptedModel,
  TerminalError,
} from "@durable-agents/core";
import * as z from "zod";

const calculator = defineTool({
  name: "calculator",
  description: "Adds the numbers of an expression like 2+3.",
  input: z.object({ expression: z.string() }),
  effect: "pure",
  execute: ({ expression }) => expression.split("+").reduce((sum, n) => sum + Number(n), 0),
});

/** "Let me calculate.", a calculator call, then "2 + 3 = 5."; `paceMs` between streamed chunks. */
export function calculatorAgent(name = "assistant", paceMs = 0): AgentDefinition {
  return defineAgent({
    name,
    system: "You add numbers.",
    tools: [calculator],
    model: scriptedModel({
      chunkSize: 4,
      delayMs: paceMs,
      turns: [
        {
          text: "Let me calculate.",
          toolCalls: [{ name: "calculator", args: { expression: "2+3" } }],
        },
        { text: "2 + 3 = 5." },
      ],
    }),
  });
}

/** Pays an amount once a human approves (an irreversible tool that waits for approval). */
export const pay = defineTool({
  name: "pay",
  description: "Pays an amount. A human approves each call.",
  input: z.object({ amount: z.number() }),
  effect: "irreversible",
  needsApproval: true,
  execute: ({ amount }) => ({ paid: amount }),
});

/** Asks to pay 5, waits for approval, then says what happened. */
export const payer = defineAgent({
  name: "payer",
  system: "You pay.",
  tools: [pay],
  model: scriptedModel({
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { text: "Saving.", toolCalls: [{ name: "pay", args: { amount: 5 } }] }
          : { text: `Result: ${JSON.stringify(toolResults[0]?.output)}` },
    ],
  }),
});

/** The model provider refuses at once, as a bad API key makes it. */
export const refused = defineAgent({
  name: "refused",
  system: "Never answers.",
  model: scriptedModel({
    rules: [
      () => {
        throw new TerminalError(
          "model_error",
          "the model provider returned 401; check OPENAI_API_KEY",
        );
      },
    ],
  }),
});

let release = () => {};
let gate = Promise.resolve();

/** Keeps its run running (inside `hold`) until `releaseHeld()`: a session that stays busy. */
export const holder = defineAgent({
  name: "holder",
  system: "Holds.",
  tools: [
    defineTool({
      name: "hold",
      description: "Waits for the test.",
      input: z.object({}),
      effect: "idempotent",
      execute: () => gate.then(() => "released"),
    }),
  ],
  model: scriptedModel({
    turns: [{ text: "Holding.", toolCalls: [{ name: "hold", args: {} }] }, { text: "Done." }],
  }),
});

/** Closes the gate that `hold` waits at (call before starting a holder run). */
export function holdRuns(): void {
  gate = new Promise((resolve) => {
    release = resolve;
  });
}

export function releaseHeld(): void {
  release();
}

/** A client-side tool: the client answers each call with its output (useChat's addToolOutput). */
const browserTime = defineTool({
  name: "browser_time",
  description: "Asks the user's browser for its local time.",
  input: z.object({}),
  effect: "pure",
  client: true,
  execute: () => ({ time: "the server's" }),
});

/** Asks the browser for the time on every message, then says what it answered. */
export const clock = defineAgent({
  name: "clock",
  system: "You tell the time.",
  tools: [browserTime],
  model: scriptedModel({
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { toolCalls: [{ name: "browser_time", args: {} }] }
          : { text: `It is ${(toolResults[0]?.output as { time?: string } | null)?.time}.` },
    ],
  }),
});

export const ALL_AGENTS: readonly AgentDefinition[] = [
  calculatorAgent(),
  payer,
  refused,
  holder,
  clock,
];
