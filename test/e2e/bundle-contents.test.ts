/**
 * What a Worker bundles, by esbuild's metafile of `wrangler deploy --dry-run` (the build
 * `wrangler deploy` uploads; docs/benchmarks.md, "Bundle size"): the minimal agent Worker
 * carries none of the optional parts (the D1 index, the run tracer, croner, OpenTelemetry,
 * the MCP SDK, the tool-schema path), and each part is in exactly when its entry point (for
 * the tool-schema path: `defineTool`) is imported, so the checks below can fail. No sizes:
 * which modules are in.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { WORKFLOW_EXECUTOR, wranglerBundle } from "../../scripts/wrangler-bundle.mjs";

const root = resolve(import.meta.dirname, "../..");

const PARTS = {
  /** `@durable-agents/cloudflare/d1`; its port (types, the 404 and the warning) is in every Worker. */
  d1: /packages\/cloudflare\/src\/d1\/(?!index-port\.ts$)/,
  tracer:
    /packages\/core\/src\/tracing\/(run-tracer|run-tracing|run-traces|gen-ai|sink-failures)\.ts$/,
  croner: /node_modules\/croner\//,
  otel: /node_modules\/@opentelemetry\//,
  mcp: /node_modules\/@modelcontextprotocol\//,
  /**
   * The AI SDK's `asSchema` (its zod 3 converter) and zod's JSON Schema generator, which
   * `defineTool` and `withJsonSchema` convert through (agent/schema-convert.ts).
   */
  toolSchema:
    /node_modules\/@ai-sdk\/provider-utils\/|zod\/v4\/core\/(to-json-schema|json-schema-processors)\.js$|agent\/schema-convert\.ts$/,
  /**
   * The Workflow executors' sides (workflow-run/host.ts, instances.ts, executor.ts,
   * workflow-check.ts, the bindings' ports), which `createAgentWorkflow` and
   * `createToolWorkflow` install (workflows/workflow-sides.ts).
   */
  workflowExecutor: WORKFLOW_EXECUTOR,
};

function carried(inputs: Readonly<Record<string, number>>): Record<keyof typeof PARTS, string[]> {
  // Modules that put bytes in the bundle (a barrel that only re-exports puts none).
  const paths = Object.keys(inputs).filter((p) => (inputs[p] ?? 0) > 0);
  return Object.fromEntries(
    Object.entries(PARTS).map(([part, re]) => [part, paths.filter((p) => re.test(p))]),
  ) as Record<keyof typeof PARTS, string[]>;
}

describe("what a Worker bundles (esbuild metafile of wrangler deploy --dry-run)", () => {
  it("the minimal agent Worker carries no D1 index, run tracer, croner, OpenTelemetry, MCP SDK, tool-schema path or Workflow executor", () => {
    const { inputs } = wranglerBundle(resolve(root, "bench/bundle"));
    // The runtime is in: a check on an empty bundle would pass too.
    expect(Object.keys(inputs)).toContainEqual(
      expect.stringMatching(/packages\/core\/src\/agent\/session-runtime\.ts$/),
    );
    expect(carried(inputs)).toEqual({
      d1: [],
      tracer: [],
      croner: [],
      otel: [],
      mcp: [],
      toolSchema: [],
      workflowExecutor: [],
    });
  });

  it("with d1Index() and cronSchedules, the index and croner are in; with otelTracing(), the tracer and OpenTelemetry", () => {
    const indexed = carried(
      wranglerBundle(resolve(root, "bench/bundle"), { main: "indexed-worker.ts" }).inputs,
    );
    expect(indexed.d1).toContainEqual(expect.stringMatching(/d1\/session-index\.ts$/));
    expect(indexed.d1).toContainEqual(expect.stringMatching(/d1\/index-routes\.ts$/));
    expect(indexed.croner.length).toBeGreaterThan(0);
    expect(indexed.tracer).toEqual([]);
    const traced = carried(wranglerBundle(resolve(root, "bench/bundle-otel")).inputs);
    expect(traced.tracer).toContainEqual(expect.stringMatching(/tracing\/run-tracer\.ts$/));
    expect(traced.otel.length).toBeGreaterThan(0);
    expect(traced.d1).toEqual([]);
    expect(traced.croner).toEqual([]);
  });

  it("with a defineTool tool, the tool-schema path is in (asSchema and zod's toJSONSchema)", () => {
    const withTool = carried(
      wranglerBundle(resolve(root, "bench/bundle"), { main: "tool-worker.ts" }).inputs,
    ).toolSchema;
    expect(withTool).toContainEqual(expect.stringMatching(/@ai-sdk\/provider-utils\//));
    expect(withTool).toContainEqual(expect.stringMatching(/zod\/v4\/core\/to-json-schema\.js$/));
  });

  it("with createAgentWorkflow and createToolWorkflow exported, the Workflow executors' sides are in", () => {
    const onWorkflows = carried(
      wranglerBundle(resolve(root, "bench/bundle"), { main: "workflow-worker.ts" }).inputs,
    ).workflowExecutor;
    expect(onWorkflows).toContainEqual(expect.stringMatching(/workflow-run\/host\.ts$/));
    expect(onWorkflows).toContainEqual(expect.stringMatching(/workflow-run\/instances\.ts$/));
    expect(onWorkflows).toContainEqual(
      expect.stringMatching(/workflows\/agent-workflow-port\.ts$/),
    );
  });
});
