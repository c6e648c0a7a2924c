import { defineTool } from "@durable-agents/core";
import * as z from "zod";
import { evaluate } from "./arithmetic.ts";

/** The application state the demo keeps (assistant.ts): what the calculator last did. */
export interface CalculatorState {
  readonly calculations: number;
  readonly lastResult: { readonly expression: string; readonly result: number } | null;
}

/**
 * Pure: a redrive simply computes it again. It also updates the session's application
 * state, which commits with its result (`state.updated`, shown live by the inspector).
 */
export const calculator = defineTool({
  name: "calculator",
  description: "Evaluates an arithmetic expression with + - * / and parentheses, e.g. (2+3)*4.",
  input: z.object({ expression: z.string().min(1).max(200) }),
  effect: "pure",
  execute: ({ expression }, ctx) => {
    const result = evaluate(expression);
    const { calculations } = ctx.state.get().state as unknown as CalculatorState;
    ctx.state.set({ calculations: calculations + 1, lastResult: { expression, result } });
    return { expression, result };
  },
});
