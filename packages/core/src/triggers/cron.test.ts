import { describe, expect, it } from "vitest";
import { nextCronTime, parseCron } from "./cron.ts";

const at = (iso: string) => Date.parse(iso);
const next = (expr: string, iso: string) =>
  new Date(nextCronTime(parseCron(expr), at(iso))).toISOString();

describe("cron", () => {
  it("finds the next matching minute", () => {
    expect(next("*/15 * * * *", "2026-11-22T10:07:30Z")).toBe("2026-11-22T10:15:00.000Z");
    expect(next("0 9 * * 1-5", "2026-11-21T12:00:00Z")).toBe("2026-11-23T09:00:00.000Z"); // Saturday → Monday
    expect(next("30 2 1 * *", "2026-11-22T00:00:00Z")).toBe("2026-12-01T02:30:00.000Z");
    expect(next("0 0 29 2 *", "2026-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
    expect(next("0 12 * * 7", "2026-11-22T12:00:00Z")).toBe("2026-11-29T12:00:00.000Z"); // 7 is Sunday
  });

  it("is strictly after the given time", () => {
    expect(next("0 10 * * *", "2026-11-22T10:00:00Z")).toBe("2026-11-23T10:00:00.000Z");
  });

  for (const bad of [
    "",
    "* * * *",
    "61 * * * *",
    "* * * * * *",
    "a b c d e",
    "*/0 * * * *",
    "5-1 * * * *",
  ]) {
    it(`rejects "${bad}" with a 400 that says why`, () => {
      expect(() => parseCron(bad)).toThrow(
        expect.objectContaining({ status: 400, code: "invalid_cron" }),
      );
    });
  }

  it("rejects a date that never comes", () => {
    expect(() => nextCronTime(parseCron("0 0 31 2 *"), Date.now())).toThrow(/never matches/);
  });
});
