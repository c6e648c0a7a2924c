import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";
import { TEST_NAME_PATTERN } from "./suite-selection.ts";

// Tier 4: @durable-streams/server-conformance-tests (pinned) against `wrangler dev`: whole
// against /v1/stream/*, and its read cases against session ledgers (suite-selection.ts).
export default defineConfig({
  ...sourceResolve,
  test: {
    name: "conformance",
    include: ["*.test.ts"],
    testNamePattern: TEST_NAME_PATTERN,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
