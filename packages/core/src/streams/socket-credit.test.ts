/** The credit of one socket (socket-credit.ts), frame by frame. */
import { describe, expect, it } from "vitest";
import { SocketCredit } from "./socket-credit.ts";

describe("SocketCredit", () => {
  it("closes at the window, counting the frame that crosses it", () => {
    const credit = new SocketCredit(1_000, 0);
    credit.sent(1, 600);
    expect(credit.open).toBe(true);
    credit.sent(2, 600);
    expect(credit.open).toBe(false);
    expect(credit.unacked).toBe(1_200);
  });

  it("an ack releases the frames up to its offset, and an ack of everything releases everything", () => {
    const credit = new SocketCredit(1_000, 0);
    for (let seq = 1; seq <= 10; seq++) credit.sent(seq, 100);
    expect(credit.open).toBe(false);
    expect(credit.ack(5)).toBe(true);
    expect(credit.unacked).toBe(500);
    expect(credit.open).toBe(true);
    expect(credit.ack(10)).toBe(true);
    expect(credit.unacked).toBe(0);
  });

  it("small frames share a mark: an ack inside one releases up to the mark before it, never more", () => {
    const credit = new SocketCredit(1_600, 0);
    // 100-byte marks (1/16 of the window): frames of 10 bytes, ten to a mark.
    for (let seq = 1; seq <= 100; seq++) credit.sent(seq, 10);
    expect(credit.ack(15)).toBe(true);
    expect(credit.unacked).toBeGreaterThanOrEqual(1_000 - 150);
    expect(credit.unacked).toBeLessThanOrEqual(1_000 - 150 + 100);
    expect(credit.ack(100)).toBe(true);
    expect(credit.unacked).toBe(0);
  });

  it("ignores a stale ack, and one at or before where the socket subscribed", () => {
    const credit = new SocketCredit(1_000, 7);
    credit.sent(9, 500);
    expect(credit.ack(7)).toBe(false);
    expect(credit.ack(9)).toBe(true);
    expect(credit.ack(9)).toBe(false);
    expect(credit.unacked).toBe(0);
  });
});
