/**
 * How events look in a terminal. Pure functions from events to text, so the
 * chat transcript and tail lines are tested without a process.
 */
import type { LedgerEvent, MessagePart } from "../types.ts";

export interface Style {
  dim(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  yellow(text: string): string;
}

export const plain: Style = { dim: (t) => t, red: (t) => t, cyan: (t) => t, yellow: (t) => t };

export const ansi: Style = {
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
  red: (t) => `\x1b[31m${t}\x1b[39m`,
  cyan: (t) => `\x1b[36m${t}\x1b[39m`,
  yellow: (t) => `\x1b[33m${t}\x1b[39m`,
};

/** Compact one-line JSON, cut to `max` characters. Strings print bare. */
export function compact(value: unknown, max = 200): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const line = text.replace(/\s*\n\s*/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Renders the chat view: deltas verbatim, tool calls and results on their
 * own lines. Tracks whether the cursor is at a line start so tool lines
 * never glue onto streamed text.
 */
export class ChatRenderer {
  #atLineStart = true;
  #streamed = new Set<number>();
  readonly #style: Style;

  constructor(style: Style) {
    this.#style = style;
  }

  render(event: LedgerEvent): string {
    switch (event.kind) {
      case "model.delta":
        this.#streamed.add(event.data.step);
        return this.#text(event.data.text);
      case "model.completed":
        // A model that does not stream still shows its answer, once.
        if (this.#streamed.has(event.data.step)) return "";
        return this.#text(event.data.text);
      case "step.started":
        if ((event.data.attempt ?? 1) <= 1) return "";
        // A step's attempt 2+ follows a model error that is retried (a 503, a lost
        // connection) as well as a crash: the ledger does not say which.
        return this.#line(
          this.#style.dim(
            `↻ step ${event.data.step}, attempt ${event.data.attempt}: the previous attempt failed or was lost; retrying`,
          ),
        );
      case "run.interrupt_requested":
        return this.#line(this.#style.dim(`interrupting: ${event.data.reason}`));
      case "tool.started":
        return this.#line(this.#style.cyan(`→ ${event.data.name}(${compact(event.data.args)})`));
      case "tool.completed":
        return this.#line(this.#style.dim(`← ${compact(event.data.result)}`));
      case "tool.failed":
        return this.#line(
          this.#style.red(
            `✗ ${event.data.name}: ${event.data.error.message} (${event.data.error.code})`,
          ),
        );
      case "tool.outcome_unknown":
        return this.#line(
          this.#style.yellow(
            `? ${event.data.name}: outcome unknown (it may or may not have run); the run waits for a decision`,
          ),
        );
      case "approval.requested":
        if (event.data.client)
          return this.#line(
            this.#style.yellow(
              `⏸ ${event.data.name}(${compact(event.data.args)}) waits for the client's output (call ${event.data.callId})`,
            ),
          );
        return this.#line(
          this.#style.yellow(
            `⏸ ${event.data.name}(${compact(event.data.args)}) needs approval (call ${event.data.callId})`,
          ),
        );
      default:
        return "";
    }
  }

  /** Text to end the transcript with, so the next line starts clean. */
  finish(): string {
    return this.#atLineStart ? "" : this.#text("\n");
  }

  #text(text: string): string {
    if (text !== "") this.#atLineStart = text.endsWith("\n");
    return text;
  }

  #line(text: string): string {
    const prefix = this.#atLineStart ? "" : "\n";
    this.#atLineStart = true;
    return `${prefix}${text}\n`;
  }
}

/** One tail line: offset, time, run, kind and the data, compact. */
export function formatTailLine(event: LedgerEvent, style: Style): string {
  const time = new Date(event.ts).toISOString().slice(11, 23);
  const run = event.runId ?? "-";
  return `${style.dim(`${event.offset} ${time} ${run}`)} ${event.kind} ${compact(event.data, 160)}`;
}

/** One message part on one line, in the chat view's notation. */
export function formatPart(part: MessagePart, style: Style): string {
  switch (part.type) {
    case "text":
      return part.text;
    case "tool-call":
      return style.cyan(`→ ${part.name}(${compact(part.args)})`);
    case "tool-result":
      if (part.error !== undefined) return style.red(`✗ ${part.name}: ${part.error.message}`);
      return style.dim(`← ${part.status === "completed" ? compact(part.result) : part.status}`);
    default:
      return `[${(part as { type: string }).type}] ${compact(part, 120)}`;
  }
}
