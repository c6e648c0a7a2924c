import { defineConfig } from "vitest/config";

// Tier 4: @durable-streams/server-conformance-tests (pinned) against `wrangler dev`.
export default defineConfig({
  test: {
    name: "conformance",
    include: ["*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
