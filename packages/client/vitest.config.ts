import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sourceResolve } from "../../scripts/source-condition.mjs";

export default defineConfig({
  ...sourceResolve,
  // React is an optional peer and not installed; hook tests run on a stand-in.
  resolve: { alias: { react: fileURLToPath(new URL("./test/mini-react.ts", import.meta.url)) } },
  test: {
    name: "client",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    // CLI tests spawn Node several times per test; on a loaded machine that alone can pass 5 s.
    testTimeout: 20_000,
  },
});
