import { describe, expect, it } from "vitest";

describe("@durable-agents/core/types", () => {
  it("loads no runtime code: the module has no value exports", async () => {
    const entry = await import("@durable-agents/core/types");
    expect(Object.keys(entry)).toEqual([]);
  });
});
