import { followRun, type RunEndEvent } from "../follow-run.ts";
import type { AgentSession } from "../session.ts";
import type { LedgerEvent } from "../types.ts";
import { type CliContext, EXIT } from "./context.ts";
import { ChatRenderer } from "./render.ts";

/**
 * Streams one run to the terminal (or as NDJSON with --json) and turns its
 * ending into an exit code: 0 completed or waiting, 1 failed, aborted or
 * interrupted.
 */
export async function followToExit(
  ctx: CliContext,
  session: AgentSession,
  run: { runId: string; offset: string },
): Promise<number> {
  const renderer = new ChatRenderer(ctx.style);
  const target = `${session.agent}/${session.id}`;
  let resumeAt = run.offset;
  ctx.onDetach = () =>
    `${renderer.finish()}detached; run ${run.runId} goes on in the server.\n` +
    `  follow it: durable-agents tail ${target} --offset ${resumeAt}\n` +
    `  stop it:   durable-agents interrupt ${target}\n`;
  const events = followRun(session, { ...run, signal: ctx.signal, retry: ctx.retry });
  let end: RunEndEvent | undefined;
  const waits = new PendingCalls();
  for (;;) {
    const next = await events.next();
    if (next.done) {
      end = next.value;
      break;
    }
    resumeAt = next.value.offset;
    waits.see(next.value);
    ctx.out(ctx.json ? `${JSON.stringify(next.value)}\n` : renderer.render(next.value));
  }
  ctx.onDetach = undefined;
  ctx.out(ctx.json ? "" : renderer.finish());
  return reportEnd(ctx, target, end, waits);
}

function reportEnd(
  ctx: CliContext,
  target: string,
  end: RunEndEvent | undefined,
  waits: PendingCalls,
): number {
  const { style } = ctx;
  switch (end?.kind) {
    case "run.completed":
      return EXIT.ok;
    case "run.waiting":
      ctx.err(
        style.yellow(`${waitingLabel(end.data.reason, waits)}. `) +
          waitingHint(target, end.data.reason, waits),
      );
      return EXIT.ok;
    case "run.failed":
      ctx.err(
        style.red(`run failed: ${end.data.error.message} (${end.data.error.code})\n`) +
          `Retry it with: durable-agents retry ${target} (--from-start to begin it again)\n`,
      );
      return EXIT.failed;
    case "run.aborted":
      ctx.err(style.red(`run aborted: ${end.data.reason}\n`));
      return EXIT.failed;
    case "run.interrupted":
      ctx.err(
        style.yellow(`run interrupted: ${end.data.reason}. `) +
          `Continue it with: durable-agents resume ${target}\n`,
      );
      return EXIT.failed;
    case undefined:
      ctx.err(style.red("the session's event stream closed before the run ended\n"));
      return EXIT.failed;
  }
}

/**
 * What the run waits for, in the user's terms: a client-side tool's output is not an
 * approval, though both wait with reason `approval` (docs/api.md, `run.waiting`).
 */
function waitingLabel(reason: string, waits: PendingCalls): string {
  if (reason === "approval" && waits.approvalCalls().length === 0 && waits.clientCalls().length)
    return "run is waiting for a client-side tool";
  return `run is waiting (${reason})`;
}

/**
 * The calls of this run that wait for an answer, as the events followed said: an approval
 * (`approval.requested`) or a client-side tool's output (the same event with `client: true`,
 * answered by `approvals: [{ callId, approved: true, result }]`, docs/api.md).
 */
class PendingCalls {
  readonly #calls = new Map<string, { name: string; client: boolean }>();

  see(event: LedgerEvent): void {
    if (event.kind === "approval.requested")
      this.#calls.set(event.data.callId, {
        name: event.data.name,
        client: event.data.client === true,
      });
    else if (event.kind === "approval.resolved") this.#calls.delete(event.data.callId);
  }

  /** The client-side tools' calls that wait for their output. */
  clientCalls(): { callId: string; name: string }[] {
    return [...this.#calls]
      .filter(([, c]) => c.client)
      .map(([callId, { name }]) => ({ callId, name }));
  }

  /** The ids of the calls that wait for a human's approval (not a client-side tool's output). */
  approvalCalls(): string[] {
    return [...this.#calls].filter(([, c]) => !c.client).map(([callId]) => callId);
  }
}

/**
 * What moves a waiting run on: a human's answer (`approve`, `--deny`), a client-side tool's
 * output (`approve --result`), or the delegated work's own report.
 */
function waitingHint(target: string, reason: string, waits: PendingCalls): string {
  if (reason === "approval" || reason === "outcome_unknown") {
    const outputs = waits
      .clientCalls()
      .map(
        ({ callId, name }) =>
          `Send the output of ${name} with: durable-agents approve ${target} ${callId} --result '<json>'\n`,
      );
    const approvals = waits.approvalCalls();
    if (outputs.length > 0 && approvals.length === 0 && reason === "approval")
      return outputs.join("");
    // The calls this run's events asked approval for, each by its id; else (a call whose
    // outcome is unknown, or events not seen) the id the status or `tail` shows.
    const answers = (approvals.length > 0 ? approvals : ["<callId>"]).map(
      (callId) => `Answer with: durable-agents approve ${target} ${callId} [--deny]\n`,
    );
    return `${outputs.join("")}${answers.join("")}`;
  }
  return `It goes on by itself when the ${reason} answers; follow it with: durable-agents tail ${target} --offset now\n`;
}
