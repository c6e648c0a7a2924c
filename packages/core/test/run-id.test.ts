import { describe, expect, it, vi } from "vitest";
import { newRunId } from "../src/agent/run-id.ts";
import { ID_PATTERN } from "../src/http/path-segment.ts";

describe("newRunId", () => {
  it("is run_ + 12 hex digits of the time in ms + 12 random hex digits, and a valid path id", () => {
    vi.spyOn(Date, "now").mockReturnValue(0x19ad3f2c4e1);
    try {
      const id = newRunId();
      expect(id).toMatch(/^run_019ad3f2c4e1[0-9a-f]{12}$/);
      expect(ID_PATTERN.test(id)).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("sorts by start time, so a session's runs take their indexes' right edge", () => {
    const now = vi.spyOn(Date, "now");
    try {
      const ids: string[] = [];
      for (let t = 1_700_000_000_000; ids.length < 200; t += 1 + (ids.length % 7)) {
        now.mockReturnValue(t);
        ids.push(newRunId());
      }
      expect([...ids].sort()).toEqual(ids);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("does not repeat within one millisecond", () => {
    vi.spyOn(Date, "now").mockReturnValue(1_700_000_000_000);
    try {
      const ids = new Set(Array.from({ length: 10_000 }, () => newRunId()));
      expect(ids.size).toBe(10_000);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
