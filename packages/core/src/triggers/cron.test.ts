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

const nextIn = (expr: string, zone: string, iso: string) =>
  new Date(nextCronTime(parseCron(expr, zone), at(iso))).toISOString();

describe("cron names, shorthands and time zones", () => {
  it("reads month and weekday names", () => {
    expect(next("0 9 * * MON-FRI", "2026-11-21T12:00:00Z")).toBe("2026-11-23T09:00:00.000Z");
    expect(next("0 0 1 JAN *", "2026-11-22T00:00:00Z")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("0 12 * * sun", "2026-11-22T12:00:00Z")).toBe("2026-11-29T12:00:00.000Z");
  });

  it("reads the @-shorthands", () => {
    expect(next("@daily", "2026-11-22T10:07:00Z")).toBe("2026-11-23T00:00:00.000Z");
    expect(next("@hourly", "2026-11-22T10:07:00Z")).toBe("2026-11-22T11:00:00.000Z");
    expect(next("@weekly", "2026-11-22T10:07:00Z")).toBe("2026-11-29T00:00:00.000Z");
    expect(next("@monthly", "2026-11-22T10:07:00Z")).toBe("2026-12-01T00:00:00.000Z");
    expect(next("@yearly", "2026-11-22T10:07:00Z")).toBe("2027-01-01T00:00:00.000Z");
  });

  it("ORs the day fields when both are restricted, as classic cron does", () => {
    // The 1st of December 2026 is a Tuesday; Monday the 30th of November comes first.
    expect(next("0 0 1 * MON", "2026-11-25T00:00:00Z")).toBe("2026-11-30T00:00:00.000Z");
  });

  it("keeps 9:00 local across the spring-forward and fall-back DST changes", () => {
    // Europe/Berlin: CET (UTC+1) until 2027-03-28 02:00, then CEST (UTC+2).
    expect(nextIn("0 9 * * *", "Europe/Berlin", "2027-03-27T09:00:00Z")).toBe(
      "2027-03-28T07:00:00.000Z",
    );
    expect(nextIn("0 9 * * *", "Europe/Berlin", "2027-03-26T09:00:00Z")).toBe(
      "2027-03-27T08:00:00.000Z",
    );
    // America/New_York: EDT (UTC-4) until 2026-11-01 02:00, then EST (UTC-5).
    expect(nextIn("0 9 * * MON-FRI", "America/New_York", "2026-10-30T14:00:00Z")).toBe(
      "2026-11-02T14:00:00.000Z",
    );
  });

  it("runs a time skipped by spring-forward once, right after the gap", () => {
    // 02:30 does not exist in Berlin on 2027-03-28 (02:00 jumps to 03:00 CEST = 01:00Z).
    expect(nextIn("30 2 * * *", "Europe/Berlin", "2027-03-27T12:00:00Z")).toBe(
      "2027-03-28T01:00:00.000Z",
    );
  });

  it("refuses a name that is not an IANA time zone with a 400", () => {
    expect(() => parseCron("0 9 * * *", "Mars/Olympus")).toThrow(
      expect.objectContaining({ status: 400, code: "invalid_time_zone" }),
    );
  });
});
