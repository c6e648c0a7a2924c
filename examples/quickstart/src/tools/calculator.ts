import { defineTool } from "@durable-agents/core";
import * as z from "zod";
import { evaluate } from "./arithmetic.ts";

/** Pure: a redrive simply computes it again. */
export const calculator = defineTool({
  name: "calculator",
  description: "Evaluates an arithmetic expression with + - * / and parentheses, e.g. (2+3)*4.",
  input: z.object({ expression: z.string().min(1).max(200) }),
  effect: "pure",
  execute: ({ expression }) => ({ expression, result: evaluate(expression) }),
});
