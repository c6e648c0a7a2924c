/**
 * The client bundle stays small: its types come from `@durable-agents/core/types`, and its
 * JavaScript, as TypeScript emits it, imports nothing from core.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.(test|d)\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe("the client's JavaScript", () => {
  it("imports nothing from @durable-agents/core at runtime, though its types do", () => {
    const files = sources(SRC);
    const typed = files.filter((f) => readFileSync(f, "utf8").includes("@durable-agents/core"));
    expect(typed.length).toBeGreaterThan(0);
    const emitted = files.filter((file) => {
      const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
        fileName: file,
      });
      return outputText.includes("@durable-agents/core");
    });
    expect(emitted).toEqual([]);
  });
});
