import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The app only (app/ → dist/): the Worker (src/worker.ts) is bundled by wrangler.
export default defineConfig({
  root: fileURLToPath(new URL("./app", import.meta.url)),
  build: { outDir: fileURLToPath(new URL("./dist", import.meta.url)), emptyOutDir: true },
  logLevel: "warn",
});
