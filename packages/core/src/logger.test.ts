import { describe, expect, it } from "vitest";
import { logLine } from "./logger.ts";

describe("logLine", () => {
  it("keeps the log message when a field is also called message", () => {
    const line = JSON.parse(
      logLine("error", "trigger gave up", { message: "boom", key: "k", level: "x" }),
    );
    expect(line).toEqual({
      level: "error",
      message: "trigger gave up",
      key: "k",
      "fields.level": "x",
      "fields.message": "boom",
    });
  });

  it("writes level, message and fields as one JSON object", () => {
    expect(JSON.parse(logLine("warn", "slow", { ms: 5 }))).toEqual({
      level: "warn",
      message: "slow",
      ms: 5,
    });
  });
});
