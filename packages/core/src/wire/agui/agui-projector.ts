import type { JsonValue, LedgerEvent } from "../../ledger/events.ts";
import type { Message } from "../../ledger/projections/message-reads.ts";
import { rewindsTo } from "../../ledger/projections/messages.ts";
import { isClientWait } from "../../ledger/wait-reasons.ts";
import { addRunTokens, type ChunkProjector } from "../chunk-projector.ts";
import { APPROVAL_RESPONSE_SCHEMA, CLIENT_TOOL_RESPONSE_SCHEMA } from "./agui-resume.ts";
import { type AguiEvent, type AguiMessage, toAguiMessages } from "./agui-types.ts";

/**
 * The ledger as AG-UI 1.0 events (docs/delivery.md has the table).
 *
 * Invariants:
 * 1. Pure and deterministic: the same events in the same order give the same AG-UI
 *    events. State is only what the current run has opened (a text message, a step,
 *    pending approvals, usage), so replaying the run's events rebuilds it exactly.
 * 2. A run opens with RUN_STARTED, STATE_SNAPSHOT (status, step, usage and the app state at
 *    that event) and MESSAGES_SNAPSHOT (the conversation at that event: HttpAgent keeps only
 *    the messages it lists), then streams the run's own messages. An AG-UI run that opens at
 *    a resume lists the ledger run's earlier messages too (the assistant's tool calls, the
 *    results already streamed), and leaves out what the stream sends next: the results still
 *    to come and the messages of the opening event itself. A state write between runs sends
 *    nothing: the next run's snapshot carries it.
 * 3. Every run that starts ends: RUN_FINISHED (success, interrupt, cancelled) or
 *    RUN_ERROR; an open text message or step is closed first.
 * 4. A run that waits for a client ends its AG-UI run with `outcome: interrupt`, one interrupt
 *    per call waiting for a decision (id = toolCallId = the call id, with the answer's
 *    `responseSchema`); a resume (a new AG-UI run with `resume[]`, see agui-resume.ts) opens a
 *    new AG-UI run. A wait on delegated calls (a sub-agent, a Workflow) is no interrupt: the
 *    AG-UI run goes on through it, its status `waiting` then `running` again
 *    (ledger/wait-reasons.ts).
 * 5. Ids are derived from the ledger: the assistant message of step n of run r is
 *    `r:n:a` (the id in GET .../messages); a tool result message is `r:n:t:<callId>`.
 * 6. A rewind (`run.resumed` with a checkpoint, which ends a step) closes the text message and
 *    step it abandons at once, before its status: after it, the events (and their ids,
 *    `seq:index`) are the same whether the rewound part was sent (a stream live across it) or
 *    left out (wire/rewound.ts), so a client cut on either resumes by its `Last-Event-ID`.
 */
export interface AguiProjectorOptions {
  /** The AG-UI thread: the session id. */
  readonly threadId: string;
  /**
   * The conversation as it stood after event `seq` (the messages events up to `seq` created,
   * as they are now), sent as MESSAGES_SNAPSHOT right after RUN_STARTED; omitted when absent.
   */
  readonly messages?: (seq: number) => readonly Message[];
  /**
   * The application state as it was after event `seq`, sent as STATE_SNAPSHOT's `state` when a
   * run opens (at its `run.started` or `run.resumed`); null when absent. `state.updated` in the
   * run then becomes STATE_DELTA `replace /state`.
   */
  readonly state?: (seq: number) => JsonValue;
}

interface RunState {
  runId: string;
  text: string | null;
  /** The open reasoning message (its deltas so far), until its `model.reasoning` ends it. */
  reasoning: string | null;
  step: number | null;
  interrupts: { id: string; reason: string; toolCallId: string }[];
  inputTokens: number;
  outputTokens: number;
  model: string | undefined;
}

export function createAguiProjector(options: AguiProjectorOptions): ChunkProjector<AguiEvent> {
  const { threadId } = options;
  let run: RunState | undefined;
  /** The tool results streamed so far in the ledger run (across its AG-UI runs). */
  let streamed = { runId: "", calls: new Set<string>() };
  const resultStreamed = (runId: string, callId: string) => {
    if (streamed.runId !== runId) streamed = { runId, calls: new Set() };
    streamed.calls.add(callId);
  };

  const closeReasoning = (out: AguiEvent[]) => {
    if (!run || run.reasoning === null) return;
    const messageId = run.reasoning;
    out.push({ type: "REASONING_MESSAGE_END", messageId }, { type: "REASONING_END", messageId });
    run.reasoning = null;
  };
  const closeOpen = (out: AguiEvent[]) => {
    if (!run) return;
    closeReasoning(out);
    if (run.text !== null) out.push({ type: "TEXT_MESSAGE_END", messageId: run.text });
    run.text = null;
    if (run.step !== null) out.push({ type: "STEP_FINISHED", stepName: stepName(run.step) });
    run.step = null;
  };
  const finish = (out: AguiEvent[], fields: Record<string, unknown>) => {
    if (!run) return;
    closeOpen(out);
    out.push({ type: "RUN_FINISHED", threadId, runId: run.runId, ...fields });
    run = undefined;
  };
  const usage = () =>
    run
      ? [
          {
            ...(run.model ? { model: run.model } : {}),
            inputTokens: run.inputTokens,
            outputTokens: run.outputTokens,
            totalTokens: run.inputTokens + run.outputTokens,
          },
        ]
      : [];
  const begin = (out: AguiEvent[], event: LedgerEvent, status: string) => {
    const runId = event.runId ?? "";
    run = {
      runId,
      text: null,
      reasoning: null,
      step: null,
      interrupts: [],
      inputTokens: 0,
      outputTokens: 0,
      model: undefined,
    };
    out.push({ type: "RUN_STARTED", threadId, runId });
    out.push({
      type: "STATE_SNAPSHOT",
      snapshot: {
        status,
        step: 0,
        usage: { inputTokens: 0, outputTokens: 0 },
        state: options.state?.(event.seq) ?? null,
      },
    });
    // A run.started or run.resumed brings a user message the stream does not send; any other
    // opening event streams what it created itself.
    const opens = event.kind === "run.started" || event.kind === "run.resumed";
    const snapshot = options.messages?.(opens ? event.seq : event.seq - 1);
    if (snapshot) {
      const sent = streamed.runId === runId ? streamed.calls : new Set<string>();
      const messages = snapshot.map((m) =>
        m.runId === runId && m.role === "tool"
          ? { ...m, parts: m.parts.filter((p) => p.type !== "tool-result" || sent.has(p.callId)) }
          : m,
      );
      out.push({ type: "MESSAGES_SNAPSHOT", messages: toAguiMessages(messages) });
    }
  };

  return {
    map(event: LedgerEvent): AguiEvent[] {
      const out: AguiEvent[] = [];
      const runId = event.runId ?? "";
      switch (event.kind) {
        case "run.started":
          if (run) finish(out, { outcome: { type: "cancelled" } });
          begin(out, event, "running");
          break;
        case "run.resumed":
          if (!run) begin(out, event, "running");
          else {
            // A rewind closes what it abandons here (invariant 6).
            if (rewindsTo(event) !== undefined) closeOpen(out);
            out.push(delta("/status", "running"));
          }
          break;
        case "state.updated":
          if (run) out.push(delta("/state", event.data.state));
          break;
        default:
          // An event of a run we did not see start (a read that begins mid-run) opens it.
          if (!run && runId !== "") begin(out, event, "running");
          if (run) mapInRun(event, run, out);
      }
      return out;
    },
    skip(event: LedgerEvent): void {
      if (run) addRunTokens(run, event);
    },
  };

  function mapInRun(event: LedgerEvent, state: RunState, out: AguiEvent[]): void {
    // The run's usage: runTokensOf, the rule GET .../usage sums (a compaction's summary call too).
    const tokens = addRunTokens(state, event);
    switch (event.kind) {
      case "step.started": {
        closeOpen(out);
        const { step } = event.data;
        state.step = step;
        out.push({ type: "STEP_STARTED", stepName: stepName(step) });
        out.push(delta("/step", step));
        return;
      }
      case "model.delta": {
        if (event.data.text === "") return;
        closeReasoning(out);
        if (state.text === null) {
          state.text = assistantId(state.runId, event.data.step);
          out.push({ type: "TEXT_MESSAGE_START", messageId: state.text, role: "assistant" });
        }
        out.push({ type: "TEXT_MESSAGE_CONTENT", messageId: state.text, delta: event.data.text });
        return;
      }
      case "model.reasoning_delta": {
        if (event.data.text === "") return;
        if (state.reasoning === null) {
          // One reasoning message per block: its id carries the seq of the block's first delta.
          const messageId = `${assistantId(state.runId, event.data.step)}:reasoning:${event.seq}`;
          state.reasoning = messageId;
          out.push(
            { type: "REASONING_START", messageId },
            { type: "REASONING_MESSAGE_START", messageId, role: "reasoning" },
          );
        }
        out.push({
          type: "REASONING_MESSAGE_CONTENT",
          messageId: state.reasoning,
          delta: event.data.text,
        });
        return;
      }
      case "model.reasoning": {
        // The end of the block its deltas streamed.
        if (state.reasoning !== null) {
          closeReasoning(out);
          return;
        }
        // Without deltas (a ledger written before reasoning streamed): the whole block as one span.
        const messageId = `${assistantId(state.runId, event.data.step)}:reasoning`;
        out.push(
          { type: "REASONING_START", messageId },
          { type: "REASONING_MESSAGE_START", messageId, role: "reasoning" },
          { type: "REASONING_MESSAGE_CONTENT", messageId, delta: event.data.text },
          { type: "REASONING_MESSAGE_END", messageId },
          { type: "REASONING_END", messageId },
        );
        return;
      }
      case "model.completed": {
        const { step, toolCalls, model } = event.data;
        const parent = assistantId(state.runId, step);
        closeReasoning(out);
        if (state.text !== null) out.push({ type: "TEXT_MESSAGE_END", messageId: state.text });
        state.text = null;
        for (const call of toolCalls) {
          out.push({
            type: "TOOL_CALL_START",
            toolCallId: call.callId,
            toolCallName: call.name,
            parentMessageId: parent,
          });
          out.push({
            type: "TOOL_CALL_ARGS",
            toolCallId: call.callId,
            delta: JSON.stringify(call.args),
          });
          out.push({ type: "TOOL_CALL_END", toolCallId: call.callId });
        }
        state.model = model;
        out.push(
          delta("/usage", { inputTokens: state.inputTokens, outputTokens: state.outputTokens }),
        );
        return;
      }
      case "tool.completed":
        resultStreamed(state.runId, event.data.callId);
        out.push(toolResult(state.runId, event.data, event.data.result));
        return;
      case "tool.failed":
        resultStreamed(state.runId, event.data.callId);
        out.push(toolResult(state.runId, event.data, event.data.error));
        return;
      case "tool.outcome_unknown":
        // An irreversible call lost its outcome: the run waits for a decision on it.
        state.interrupts.push({
          id: event.data.callId,
          reason: "outcome_unknown",
          toolCallId: event.data.callId,
        });
        resultStreamed(state.runId, event.data.callId);
        out.push(toolResult(state.runId, event.data, { status: "outcome_unknown" }));
        return;
      case "step.completed":
        if (state.step !== null)
          out.push({ type: "STEP_FINISHED", stepName: stepName(state.step) });
        state.step = null;
        return;
      case "approval.requested":
        state.interrupts.push({
          id: event.data.callId,
          reason: event.data.client ? "client_tool" : "approval",
          toolCallId: event.data.callId,
        });
        out.push(custom(event));
        return;
      case "approval.resolved":
        state.interrupts = state.interrupts.filter((i) => i.id !== event.data.callId);
        out.push(custom(event));
        return;
      case "run.waiting": {
        out.push(delta("/status", "waiting"));
        if (!isClientWait(event)) return;
        const interrupts =
          state.interrupts.length > 0
            ? state.interrupts.map((i) => ({
                ...i,
                message: event.data.reason,
                responseSchema:
                  i.reason === "client_tool"
                    ? CLIENT_TOOL_RESPONSE_SCHEMA
                    : APPROVAL_RESPONSE_SCHEMA,
              }))
            : [{ id: `${state.runId}:waiting`, reason: event.data.reason }];
        finish(out, { outcome: { type: "interrupt", interrupts }, usage: usage() });
        return;
      }
      case "run.completed":
        out.push(delta("/status", "completed"));
        finish(out, { outcome: { type: "success" }, result: event.data.output, usage: usage() });
        return;
      case "run.interrupted":
        out.push(delta("/status", "interrupted"));
        finish(out, {
          outcome: {
            type: "interrupt",
            interrupts: [{ id: `${state.runId}:interrupted`, reason: event.data.reason }],
          },
          usage: usage(),
        });
        return;
      case "run.aborted":
        out.push(delta("/status", "aborted"));
        finish(out, { outcome: { type: "cancelled" }, usage: usage() });
        return;
      case "run.failed":
        closeOpen(out);
        out.push({
          type: "RUN_ERROR",
          message: event.data.error.message,
          code: event.data.error.code,
        });
        run = undefined;
        return;
      case "context.compacted":
      case "context.summary_discarded":
        // The model's prompt was compacted (the conversation shown is not), or a summary call
        // was made for nothing: a CUSTOM event, and the summary call's tokens in the usage.
        if (tokens)
          out.push(
            delta("/usage", { inputTokens: state.inputTokens, outputTokens: state.outputTokens }),
          );
        out.push(custom(event));
        return;
      default:
        // run.interrupt_requested, tool.started, subagent.*, usage.recorded and application
        // events (`app.*`, name = kind, value = payload): facts without an AG-UI event of
        // their own, passed on as CUSTOM so a client can still see them.
        out.push(custom(event));
    }
  }
}

function stepName(step: number): string {
  return `step ${step}`;
}

function assistantId(runId: string, step: number): string {
  return `${runId}:${step}:a`;
}

function toolResult(
  runId: string,
  data: { step: number; callId: string },
  content: unknown,
): AguiEvent {
  return {
    type: "TOOL_CALL_RESULT",
    messageId: `${runId}:${data.step}:t:${data.callId}`,
    toolCallId: data.callId,
    content: JSON.stringify(content),
    role: "tool",
  };
}

function delta(path: string, value: unknown): AguiEvent {
  return { type: "STATE_DELTA", delta: [{ op: "replace", path, value }] };
}

function custom(event: LedgerEvent): AguiEvent {
  return { type: "CUSTOM", name: event.kind, value: event.data };
}

export type { AguiEvent, AguiMessage };
