import { isAppEventKind } from "../../app-events/define-event.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { encodeOffset } from "../../ledger/offset.ts";
import { rewindsTo } from "../../ledger/projections/messages.ts";
import { isClientWait } from "../../ledger/wait-reasons.ts";
import { addRunTokens, type ChunkProjector } from "../chunk-projector.ts";

/**
 * The ledger as AI SDK UI message chunks (`x-vercel-ai-ui-message-stream: v1`).
 *
 * Invariants:
 * 1. One UI message per run, id = the run id; one `start-step`/`finish-step` per step.
 * 2. Pure and deterministic, with state from the current run only (see chunk-projector.ts),
 *    so a stream resumed at any chunk continues exactly where the last one stopped.
 * 3. Parts are never duplicated: a text part opens at the step's first delta and closes
 *    before its tool calls; a reasoning part opens at a block's first `model.reasoning_delta`
 *    and closes at its `model.reasoning` (or when text, tool calls or the step's end come); a step retried after a crash is first reset (`reset-step`),
 *    which drops the lost attempt's partial text, as the messages projection does.
 * 4. `state.updated` in a run is a `data-state` part `{ state, version }` with id `state`.
 * 5. A run that pauses (`run.waiting` for a client, `run.interrupted`) ends its segment with
 *    `finish` or `abort`; when it is resumed, the next segment opens with `start` and the same
 *    message id, so one stream can carry the whole run (the AI SDK keeps building the same
 *    message). A wait on delegated calls (a sub-agent, a Workflow) is no pause: the segment
 *    goes on through it (ledger/wait-reasons.ts).
 *    An answer to an approval is `tool-approval-response`, a denial then `tool-output-denied`.
 *    A client-side tool's call (`approval.requested` `client`) asks no approval: the client
 *    answers its `tool-input-available` with the output.
 * 6. An application event in a run is a `data-<kind>` part (`data-app.note.added`) with the
 *    event's payload as `data` and its offset as `id`; between runs, nothing (as for state).
 * 7. A rewind (`run.resumed` with a checkpoint, which ends a step) closes the step it abandons
 *    at once, so the chunks after it (and their ids, `seq:index`) are the same whether the
 *    rewound part was sent (a stream live across it) or left out (the resume stream, with
 *    wire/rewound.ts): a client cut on either resumes by its `Last-Event-ID` exactly.
 */
export type UiChunk = { readonly type: string } & Record<string, unknown>;

interface RunState {
  runId: string;
  text: string | null;
  /** The open reasoning part (its deltas so far), until its `model.reasoning` ends it. */
  reasoning: string | null;
  stepOpen: boolean;
  stepHasParts: boolean;
  /** Calls a human denied in this segment: their `tool.failed` (code `denied`) is already shown. */
  denied: Set<string>;
  inputTokens: number;
  outputTokens: number;
}

export function createUiStreamProjector(): ChunkProjector<UiChunk> {
  let run: RunState | undefined;

  const closeReasoning = (out: UiChunk[]) => {
    if (run?.reasoning) out.push({ type: "reasoning-end", id: run.reasoning });
    if (run) run.reasoning = null;
  };
  const closeText = (out: UiChunk[]) => {
    closeReasoning(out);
    if (run?.text) out.push({ type: "text-end", id: run.text });
    if (run) run.text = null;
  };
  const closeStep = (out: UiChunk[]) => {
    closeText(out);
    if (run?.stepOpen) out.push({ type: "finish-step" });
    if (run) run.stepOpen = false;
  };
  const end = (out: UiChunk[], last: UiChunk) => {
    closeStep(out);
    out.push(last);
    run = undefined;
  };
  const begin = (out: UiChunk[], runId: string) => {
    run = {
      runId,
      text: null,
      reasoning: null,
      stepOpen: false,
      stepHasParts: false,
      denied: new Set(),
      inputTokens: 0,
      outputTokens: 0,
    };
    out.push({ type: "start", messageId: runId });
  };
  const metadata = () =>
    run ? { usage: { inputTokens: run.inputTokens, outputTokens: run.outputTokens } } : undefined;

  return {
    map(event: LedgerEvent): UiChunk[] {
      const out: UiChunk[] = [];
      const runId = event.runId ?? "";
      if (event.kind === "run.started") {
        if (run) end(out, { type: "abort", reason: "superseded by a new run" });
        begin(out, runId);
        return out;
      }
      if (event.kind === "state.updated") {
        // A data part with an id: the client replaces it on each write. Between runs, nothing.
        const { state, version } = event.data;
        if (run) out.push({ type: "data-state", id: "state", data: { state, version } });
        return out;
      }
      if (!run && runId !== "") begin(out, runId);
      const state = run;
      if (!state) return out;
      if (isAppEventKind(event.kind)) {
        out.push({ type: `data-${event.kind}`, id: encodeOffset(event.seq), data: event.data });
        return out;
      }
      // The run's usage: runTokensOf, the rule GET .../usage sums (a compaction's summary call too).
      addRunTokens(state, event);
      switch (event.kind) {
        case "step.started":
          if (event.data.attempt > 1 && state.stepOpen) {
            state.text = null;
            state.reasoning = null;
            if (state.stepHasParts) out.push({ type: "reset-step" });
          } else {
            closeStep(out);
            out.push({ type: "start-step" });
            state.stepOpen = true;
          }
          state.stepHasParts = false;
          break;
        case "model.delta":
          if (event.data.text === "") break;
          closeReasoning(out);
          if (state.text === null) {
            state.text = `${state.runId}:${event.data.step}:a`;
            out.push({ type: "text-start", id: state.text });
            state.stepHasParts = true;
          }
          out.push({ type: "text-delta", id: state.text, delta: event.data.text });
          break;
        case "model.reasoning_delta":
          if (event.data.text === "") break;
          if (state.reasoning === null) {
            // One part per reasoning block: its id carries the seq of the block's first delta.
            state.reasoning = `${state.runId}:${event.data.step}:r:${event.seq}`;
            out.push({ type: "reasoning-start", id: state.reasoning });
            state.stepHasParts = true;
          }
          out.push({ type: "reasoning-delta", id: state.reasoning, delta: event.data.text });
          break;
        case "model.reasoning": {
          // The end of the block its deltas streamed; without deltas (a ledger written before
          // reasoning streamed), the whole block at once.
          if (state.reasoning !== null) {
            closeReasoning(out);
            break;
          }
          if (event.data.text === "") break;
          const id = `${state.runId}:${event.data.step}:r`;
          out.push(
            { type: "reasoning-start", id },
            { type: "reasoning-delta", id, delta: event.data.text },
            { type: "reasoning-end", id },
          );
          state.stepHasParts = true;
          break;
        }
        case "model.completed":
          closeText(out);
          for (const call of event.data.toolCalls) {
            out.push({
              type: "tool-input-available",
              toolCallId: call.callId,
              toolName: call.name,
              input: call.args,
            });
            state.stepHasParts = true;
          }
          break;
        case "tool.completed":
          out.push({
            type: "tool-output-available",
            toolCallId: event.data.callId,
            output: event.data.result,
          });
          break;
        case "tool.failed":
          if (event.data.error.code === "denied" && state.denied.has(event.data.callId)) break;
          out.push({
            type: "tool-output-error",
            toolCallId: event.data.callId,
            errorText: event.data.error.message,
          });
          break;
        case "tool.outcome_unknown":
          out.push({
            type: "tool-output-error",
            toolCallId: event.data.callId,
            errorText:
              "outcome unknown: the tool may or may not have run; the run waits for a decision",
          });
          break;
        case "approval.requested":
          // A client-side tool's call is a plain `tool-input-available` (already sent): the
          // client runs it (onToolCall) and answers with addToolOutput, no approval asked.
          if (event.data.client) break;
          out.push({
            type: "tool-approval-request",
            approvalId: event.data.callId,
            toolCallId: event.data.callId,
          });
          break;
        case "approval.resolved": {
          const { callId, approved, reason, withResult } = event.data;
          // A client-side tool's output (addToolOutput) answers the call itself: its
          // tool.completed follows, and the client's part already left the approval state.
          if (withResult) break;
          out.push({
            type: "tool-approval-response",
            approvalId: callId,
            approved,
            ...(reason === undefined ? {} : { reason }),
          });
          if (!approved) {
            out.push({ type: "tool-output-denied", toolCallId: callId });
            state.denied.add(callId);
          }
          break;
        }
        case "step.completed":
          closeStep(out);
          break;
        case "run.resumed":
          if (rewindsTo(event) !== undefined) closeStep(out);
          break;
        case "run.completed":
          end(out, { type: "finish", finishReason: "stop", messageMetadata: metadata() });
          break;
        case "run.waiting":
          if (isClientWait(event))
            end(out, { type: "finish", finishReason: "other", messageMetadata: metadata() });
          break;
        case "run.interrupted":
          end(out, { type: "abort", reason: event.data.reason });
          break;
        case "run.aborted":
          end(out, { type: "abort", reason: event.data.reason });
          break;
        case "run.failed":
          closeStep(out);
          out.push({ type: "error", errorText: event.data.error.message });
          run = undefined;
          break;
        // context.compacted and context.summary_discarded among them: what the model is sent, not the UI message.
        default:
          break;
      }
      return out;
    },
    skip(event: LedgerEvent): void {
      if (run) addRunTokens(run, event);
    },
  };
}

/** Headers of an AI SDK UI message stream response. */
export const UI_STREAM_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-vercel-ai-ui-message-stream": "v1",
  "x-accel-buffering": "no",
};

export const UI_STREAM_DONE = "data: [DONE]\n\n";
