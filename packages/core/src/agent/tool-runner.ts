import type { AppContext } from "../app-events/app-context.ts";
import { StagedEffects } from "../app-events/staged.ts";
import { DurableAgentsError } from "../errors/base.ts";
import type { ErrorInfo, JsonValue, NewEvent, StateSource } from "../ledger/events.ts";
import type { ToolCallRecord } from "../ledger/projections/tool-calls.ts";
import type { SqlPort } from "../sql/port.ts";
import { utf8Exceeds } from "../utf8.ts";
import { cutText, MAX_TOOL_ERROR_CHARS } from "../validation/fields.ts";
import type { StateView } from "./app-state.ts";
import type { AnyTool, ToolContext } from "./define-tool.ts";
import { admitCall, governedFetch, type ResolvedDomains } from "./governance.ts";
import { parseToolInput } from "./tool-schema.ts";

export type ToolOutcome =
  | {
      readonly type: "completed";
      readonly result: JsonValue;
      readonly writes: ((sql: SqlPort) => void)[];
      /** The application events the call emitted (`ctx.emit`), appended after its result. */
      readonly events: readonly NewEvent[];
      /** The application state the call staged with `ctx.state.set`, if any. */
      readonly state: { readonly value: JsonValue } | undefined;
    }
  | { readonly type: "failed"; readonly error: ErrorInfo };

export interface ToolRunContext
  extends Omit<
    ToolContext,
    "transaction" | "callId" | "idempotencyKey" | "step" | "state" | "fetch" | keyof AppContext
  > {
  /** The app context of one call, whose events go to `staged`. */
  readonly app: (staged: StagedEffects) => AppContext;
  readonly maxResultBytes: number;
  /** The allow-lists of the agent's domains (governance.ts), and the fetch `ctx.fetch` wraps. */
  readonly domains: ResolvedDomains;
  readonly fetch: typeof fetch;
  /** The committed application state, and the check every write passes. */
  readonly appState: {
    current(): StateView;
    check(value: unknown, source: StateSource): JsonValue;
  };
}

/**
 * Runs one tool call and returns its outcome without writing anything. Bad
 * input, an unknown tool, a throw and an oversized result all become
 * `failed` outcomes the model sees; none of them crash the run.
 */
export async function runTool(
  tools: readonly AnyTool[],
  call: ToolCallRecord,
  idempotencyKey: string,
  ctx: ToolRunContext,
): Promise<ToolOutcome> {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) {
    const known = tools.map((t) => t.name).join(", ") || "none";
    return failed(
      "unknown_tool",
      `the model called "${call.name}", which this agent does not have (tools: ${known})`,
    );
  }
  const parsed = await parseToolInput(tool.name, tool.input, call.args);
  if (!parsed.success) {
    return failed(
      "invalid_tool_input",
      `input for ${tool.name} does not match its schema: ${parsed.message}`,
    );
  }
  const writes: ((sql: SqlPort) => void)[] = [];
  let staged: { value: JsonValue } | undefined;
  const effects = new StagedEffects(ctx.runId);
  const { appState, app, domains, fetch: base, maxResultBytes: _max, ...rest } = ctx;
  const toolCtx: ToolContext = {
    ...rest,
    ...app(effects),
    fetch: governedFetch(tool, domains, base, ctx.signal),
    callId: call.callId,
    step: call.step,
    idempotencyKey,
    transaction: (write) => {
      writes.push(write);
    },
    state: {
      get: () => {
        const committed = appState.current();
        return staged
          ? { state: structuredClone(staged.value), version: committed.version }
          : committed;
      },
      set: (next) => {
        const source = { source: "tool" as const, step: call.step, callId: call.callId };
        staged = { value: appState.check(next, source) };
      },
    },
  };
  const refused = await admitCall(tool, parsed.value, {
    ...rest,
    callId: call.callId,
    step: call.step,
    idempotencyKey,
    authority: tool.authority ?? "write",
    state: { get: toolCtx.state.get },
    projection: toolCtx.projection,
  });
  if (refused) return { type: "failed", error: refused };
  let result: unknown;
  try {
    result = await tool.execute(parsed.value, toolCtx);
  } catch (error) {
    // A typed error names what went wrong (an MCP call's `mcp_timeout`...); anything else is a tool_error.
    const code = error instanceof DurableAgentsError ? error.code : "tool_error";
    return failed(code, error instanceof Error ? error.message : String(error));
  }
  const json = JSON.stringify(result ?? null);
  if (utf8Exceeds(ctx.maxResultBytes, json)) {
    return failed(
      "tool_result_too_large",
      `${tool.name} returned more than ${ctx.maxResultBytes} bytes; return a summary or a reference instead`,
    );
  }
  return {
    type: "completed",
    result: JSON.parse(json) as JsonValue,
    writes,
    events: effects.events,
    state: staged,
  };
}

/** A failed outcome; its message cut at MAX_TOOL_ERROR_CHARS (a thrown message has no bound). */
function failed(code: string, message: string): ToolOutcome {
  return { type: "failed", error: { code, message: cutText(message, MAX_TOOL_ERROR_CHARS) } };
}
