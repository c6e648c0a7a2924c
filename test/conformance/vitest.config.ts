import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

// Tier 4: @durable-streams/server-conformance-tests (pinned) against `wrangler dev`.
export default defineConfig({
  ...sourceResolve,
  test: {
    name: "conformance",
    include: ["*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
