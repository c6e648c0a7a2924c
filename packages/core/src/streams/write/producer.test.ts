import { describe, expect, it } from "vitest";
import { validateProducer } from "./producer.ts";

const tuple = (epoch: number, seq: number) => ({ producerId: "p", epoch, seq });

describe("validateProducer", () => {
  it.each([
    [
      "new producer at seq 0",
      null,
      tuple(0, 0),
      { kind: "accepted", next: { epoch: 0, lastSeq: 0 } },
    ],
    [
      "new producer past seq 0",
      null,
      tuple(0, 3),
      { kind: "sequence_gap", expected: 0, received: 3 },
    ],
    [
      "next seq",
      { epoch: 2, lastSeq: 4 },
      tuple(2, 5),
      { kind: "accepted", next: { epoch: 2, lastSeq: 5 } },
    ],
    ["retry", { epoch: 2, lastSeq: 4 }, tuple(2, 3), { kind: "duplicate", lastSeq: 4 }],
    [
      "gap",
      { epoch: 2, lastSeq: 4 },
      tuple(2, 7),
      { kind: "sequence_gap", expected: 5, received: 7 },
    ],
    ["zombie", { epoch: 2, lastSeq: 4 }, tuple(1, 9), { kind: "stale_epoch", currentEpoch: 2 }],
    [
      "new epoch at 0",
      { epoch: 2, lastSeq: 4 },
      tuple(3, 0),
      { kind: "accepted", next: { epoch: 3, lastSeq: 0 } },
    ],
    ["new epoch past 0", { epoch: 2, lastSeq: 4 }, tuple(3, 1), { kind: "epoch_seq_not_zero" }],
  ] as const)("%s", (_name, state, request, outcome) => {
    expect(validateProducer(state, request)).toEqual(outcome);
  });
});
