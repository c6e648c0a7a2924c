/**
 * AG-UI after a rewind (`POST .../resume` `{ mode: "from_checkpoint" }`): a client that
 * connects after it (`GET .../agui`) gets the run without what the rewind took back, as the
 * conversation shows it, in a sequence `@ag-ui/client`'s `verifyEvents` accepts. The run waits
 * on a Workflow: active, its AG-UI run open across the rewind.
 */
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { from, lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { call, readUntil, retried, rewind, waiting } from "../../test/rewind-fixture.ts";
import { addRunTokens } from "../wire/chunk-projector.ts";

type Event = BaseEvent & Record<string, unknown>;

/** The AG-UI events of an SSE body (their SSE ids in `ids`), read until `stop` holds for one. */
const readEvents = (response: Response, stop: (event: Event) => boolean, ids: string[] = []) =>
  readUntil<Event>(response, (events) => stop(events.at(-1) as Event), ids);

/** Every event validates and the sequence passes the real client's `verifyEvents`. */
async function verified(events: Event[]): Promise<void> {
  for (const event of events) expect(EventSchemas.safeParse(event).error).toBeUndefined();
  await lastValueFrom(from(events).pipe(verifyEvents(false), toArray()));
}

const texts = (events: Event[]) =>
  events.flatMap((e) => (e.type === "TEXT_MESSAGE_CONTENT" ? [e.delta as string] : [])).join("");
const argsOf = (events: Event[]) =>
  events.flatMap((e) => (e.type === "TOOL_CALL_ARGS" ? [JSON.parse(e.delta as string)] : []));
/** The run's usage a `STATE_DELTA` sets, if it sets it. */
const usageOf = (e: Event) => {
  const op = (e.delta as { path: string; value: unknown }[] | undefined)?.[0];
  return e.type === "STATE_DELTA" && op?.path === "/usage" ? op.value : undefined;
};
const callArgs = (n: number) => (e: Event) =>
  e.type === "TOOL_CALL_ARGS" && (JSON.parse(e.delta as string) as { n: number }).n === n;

describe("AG-UI after a rewind", () => {
  it("a client live across the rewind keeps what it was sent, then gets the new part, well-formed", async () => {
    const { t, seq } = await waiting();
    const response = await call(t, "agui");
    const live = readEvents(response, callArgs(2));
    await rewind(t, seq);
    const events = await live;
    await verified(events);
    expect(texts(events)).toBe("Crunching.Again.");
    expect(argsOf(events)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("a client that reconnects from inside the rewound part gets its exact continuation", async () => {
    const { t, seq } = await waiting();
    const ids: string[] = [];
    const before = await readEvents(await call(t, "agui"), callArgs(1), ids);
    await rewind(t, seq);
    const after = await readEvents(
      await call(t, "agui", "GET", undefined, { "last-event-id": ids.at(-1) as string }),
      callArgs(2),
    );
    await verified([...before, ...after]);
    expect(texts([...before, ...after])).toBe("Crunching.Again.");
    expect(argsOf(after)).toEqual([{ n: 2 }]);
  });

  it("a client that connects after a resume from a checkpoint gets no rewound part", async () => {
    const { t, seq } = await waiting();
    await rewind(t, seq);

    // Read through the new call's model.completed: its arguments, then the run's usage.
    let args = false;
    const events = await readEvents(await call(t, "agui"), (e) => {
      args ||= callArgs(2)(e);
      return args && usageOf(e) !== undefined;
    });
    await verified(events);
    expect(texts(events)).toBe("Again.");
    expect(argsOf(events)).toEqual([{ n: 2 }]);
    const ids = events.flatMap((e) => (e.type === "TOOL_CALL_START" ? [e.toolCallId] : []));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.filter((e) => e.type === "RUN_STARTED")).toHaveLength(1);
    // The run's usage still counts the rewound model call, as GET .../usage sums it.
    const usage = events.flatMap((e) => usageOf(e) ?? []);
    const sum = { inputTokens: 0, outputTokens: 0 };
    for (const event of t.runtime.ledger.read(0)) addRunTokens(sum, event);
    expect(sum.outputTokens).toBeGreaterThan(0);
    expect(usage.at(-1)).toEqual(sum);
  });

  it("a client of the run without the rewound part, cut anywhere and resumed by its Last-Event-ID, gets the rest of it", async () => {
    const { t, seq } = await waiting();
    await rewind(t, seq);
    const resumedAt = t.runtime.ledger.read(0).findLast((e) => e.kind === "run.resumed")?.seq;
    const ids: string[] = [];
    const whole = await readEvents(await call(t, "agui"), callArgs(2), ids);
    await verified(whole);
    for (let cut = 1; cut < whole.length; cut++) {
      const restIds: string[] = [];
      const rest = await readEvents(
        await call(t, "agui", "GET", undefined, { "last-event-id": ids[cut - 1] as string }),
        callArgs(2),
        restIds,
      );
      const joined = [...whole.slice(0, cut), ...rest];
      await verified(joined);
      if (Number(ids[cut - 1]?.split(":")[0]) === resumedAt) {
        // Cut at the rewind's own status: what the live stream closes there comes first on it,
        // so this reader is sent that status once more (an idempotent replace), then the rest.
        expect(rest[0]).toEqual(whole[cut - 1]);
        expect([...whole.slice(0, cut), ...rest.slice(1)]).toEqual(whole);
        continue;
      }
      expect([...ids.slice(0, cut), ...restIds]).toEqual(ids);
      expect(joined).toEqual(whole);
    }
  });

  it("a client that connects after a retry gets no retried part", async () => {
    const t = await retried();
    const events = await readEvents(await call(t, "agui"), callArgs(2));
    await verified(events);
    expect(texts(events)).toBe("Again.");
    expect(argsOf(events)).toEqual([{ n: 2 }]);
    expect(events.map((e) => e.type)).not.toContain("RUN_ERROR");
  });
});
