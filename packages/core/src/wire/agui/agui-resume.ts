import * as z from "zod/mini";
import type { Decision } from "../../agent/run-control.ts";
import { BadRequestError } from "../../errors/http-errors.ts";
import type { JsonValue } from "../../ledger/events.ts";
import { check } from "../../validation/check.ts";
import { jsonValue, reasonText } from "../../validation/fields.ts";
import type { RunAgentInput } from "./run-agent-input.ts";

/**
 * AG-UI 1.0 interrupts and resumes (`@ag-ui/core` `InterruptSchema`, `ResumeEntrySchema`).
 *
 * A run that waits ends its AG-UI run with `RUN_FINISHED` `outcome: { type: "interrupt",
 * interrupts }`: one interrupt per call waiting for a decision (`id` = `toolCallId` = the call
 * id, `reason: "approval"`, `responseSchema` = {@link APPROVAL_RESPONSE_SCHEMA}; for a
 * client-side tool's call `reason: "client_tool"`, {@link CLIENT_TOOL_RESPONSE_SCHEMA}), or one for
 * the run itself (`<runId>:interrupted`, `<runId>:waiting`). A new AG-UI run whose
 * `RunAgentInput.resume[]` answers them continues the same ledger run.
 */

/** The JSON Schema of the `payload` that answers an approval interrupt. */
export const APPROVAL_RESPONSE_SCHEMA = {
  type: "object",
  properties: {
    approved: { type: "boolean", description: "Run the call (true, the default) or deny it." },
    reason: { type: "string", description: "Why; the model sees it with a denial." },
    args: { type: "object", description: "Edited arguments to run the call with." },
    result: {
      description: "The call's result, recorded instead of running it (a client-side tool).",
    },
  },
  additionalProperties: false,
} as const;

/** The JSON Schema of the `payload` that answers a client-side tool's interrupt: its output. */
export const CLIENT_TOOL_RESPONSE_SCHEMA = {
  type: "object",
  properties: {
    result: { description: "The call's output, as the client's tool produced it." },
  },
  required: ["result"],
  additionalProperties: false,
} as const;

const approvalPayload = z.strictObject({
  approved: z.optional(z.boolean()),
  reason: z.optional(reasonText),
  args: z.optional(jsonValue),
  result: z.optional(jsonValue),
});

/** What a `resume[]` asks of the run: decisions for waiting calls, or to continue it. */
export type AguiResume =
  | { readonly type: "decisions"; readonly decisions: Decision[] }
  | { readonly type: "continue" }
  | { readonly type: "abandon" };

export function aguiResume(input: RunAgentInput, runId: string): AguiResume {
  const entries = input.resume ?? [];
  const own = entries.filter(
    (e) => e.interruptId === `${runId}:interrupted` || e.interruptId === `${runId}:waiting`,
  );
  if (own.length > 0) {
    if (own.length !== entries.length)
      throw invalid("it mixes answers to calls with an answer to the run's own interrupt");
    return own.every((e) => e.status === "cancelled") ? { type: "abandon" } : { type: "continue" };
  }
  const decisions = entries.map((entry, i): Decision => {
    if (entry.status === "cancelled")
      return { callId: entry.interruptId, approved: false, reason: "cancelled by the client" };
    const parsed = check(approvalPayload, entry.payload ?? {});
    if (!parsed.success)
      throw invalid(
        `resume.${i}.payload must match the interrupt's responseSchema ({approved?, reason?, args?, result?}): ${parsed.summary}`,
      );
    const { approved = true, reason, args, result } = parsed.data;
    return {
      callId: entry.interruptId,
      approved,
      ...(reason !== undefined ? { reason } : {}),
      ...(args !== undefined ? { args: args as JsonValue } : {}),
      ...(result !== undefined ? { result: result as JsonValue } : {}),
    };
  });
  return { type: "decisions", decisions };
}

function invalid(what: string): BadRequestError {
  return new BadRequestError("invalid_request", `the RunAgentInput's resume is invalid: ${what}`);
}
