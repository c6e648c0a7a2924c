import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { SpanRecord } from "./trace-sink.ts";

/** The least time between two lines about a failing sink: one minute, by the tracer's clock. */
export const SINK_FAILURE_LOG_MS = 60_000;

/**
 * What the tracer logs about a sink whose `record` throws (run-tracer.ts invariant 7), so a
 * broken sink on a busy session logs a few lines, not one per span:
 *
 * - `trace sink failed` (error): the first failure, and then the first failure at least
 *   `SINK_FAILURE_LOG_MS` after the previous line, with that span's name, trace id and error,
 *   and `lost`: the spans lost since the previous line, this one included.
 * - `trace sink recovered` (warn): the first span recorded at least `SINK_FAILURE_LOG_MS`
 *   after the previous line while spans lost since then went unreported, with their number
 *   (`lost`).
 *
 * So a failing sink logs at most one line per `SINK_FAILURE_LOG_MS`, and every lost span is
 * counted in some line unless no span at all follows it (the tracer runs no timer: a timer
 * would keep the object alive). `lostTotal` on each line counts the spans this tracer (one per
 * session object's life) has lost.
 */
export class SinkFailures {
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Spans lost since the last line. */
  #unreported = 0;
  #total = 0;
  /** When the last line was logged; undefined before the first. */
  #lastLine: number | undefined;

  constructor(clock: Clock, logger: Logger) {
    this.#clock = clock;
    this.#logger = logger;
  }

  /** `span` was lost: `record` threw `error`. */
  failed(span: SpanRecord, error: unknown): void {
    this.#unreported++;
    this.#total++;
    if (!this.#mayLog()) return;
    this.#logger.error("trace sink failed", {
      span: span.name,
      traceId: span.traceId,
      error: error instanceof Error ? error.message : String(error),
      lost: this.#unreported,
      lostTotal: this.#total,
    });
    this.#unreported = 0;
  }

  /** A span was recorded. */
  recorded(): void {
    if (this.#unreported === 0 || !this.#mayLog()) return;
    this.#logger.warn("trace sink recovered", { lost: this.#unreported, lostTotal: this.#total });
    this.#unreported = 0;
  }

  /** Whether a line may be logged now; if so, now is the last line's time. */
  #mayLog(): boolean {
    const now = this.#clock.now();
    // A clock set back counts as a window passed, rather than silencing the log until it catches up.
    const since = this.#lastLine === undefined ? SINK_FAILURE_LOG_MS : now - this.#lastLine;
    if (since >= 0 && since < SINK_FAILURE_LOG_MS) return false;
    this.#lastLine = now;
    return true;
  }
}
