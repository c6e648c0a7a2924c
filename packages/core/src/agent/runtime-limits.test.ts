import { describe, expect, it } from "vitest";
import { DEFAULT_RUNTIME_LIMITS, runtimeLimits } from "./session-runtime-options.ts";

describe("runtimeLimits", () => {
  it("keeps the default of a limit given as undefined (Partial: undefined is unset)", () => {
    expect(runtimeLimits({ maxModelAttempts: undefined, maxToolResultBytes: 1024 })).toEqual({
      ...DEFAULT_RUNTIME_LIMITS,
      maxToolResultBytes: 1024,
    });
  });

  it("refuses a limit that is not a whole number ≥ 1, naming it", () => {
    expect(() => runtimeLimits({ maxModelAttempts: 0 })).toThrow(
      /limits.maxModelAttempts must be a whole number ≥ 1, got 0/,
    );
    expect(() => runtimeLimits({ maxToolResultBytes: Number.NaN })).toThrow(RangeError);
  });
});
