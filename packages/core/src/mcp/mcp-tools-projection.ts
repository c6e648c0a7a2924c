import type { Projection } from "../ledger/projection.ts";
import type { SqlPort } from "../sql/port.ts";
import type { McpToolDescriptor } from "./source.ts";

/** The tools each MCP server offered a run, as recorded by its `mcp.tools_listed` event. */
export interface RecordedMcpTools {
  readonly server: string;
  readonly tools: readonly McpToolDescriptor[];
  readonly digest: string;
  readonly seq: number;
}

interface Row {
  server: string;
  tools: string;
  digest: string;
  seq: number;
}

/**
 * `mcp_tools`: per run and server, the tool list the run saw (the latest
 * `mcp.tools_listed`). Read by key, so a step costs the same at any ledger length.
 */
export const mcpToolsProjection: Projection = {
  name: "mcp_tools",
  version: 1,
  create: [
    "CREATE TABLE mcp_tools (run_id TEXT NOT NULL, server TEXT NOT NULL, tools TEXT NOT NULL, digest TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (run_id, server))",
    "CREATE INDEX mcp_tools_by_server ON mcp_tools (server, seq)",
  ],
  drop: ["DROP TABLE IF EXISTS mcp_tools"],
  apply(sql, event) {
    if (event.kind !== "mcp.tools_listed" || event.runId === null) return;
    sql.exec(
      "INSERT OR REPLACE INTO mcp_tools (run_id, server, tools, digest, seq) VALUES (?, ?, ?, ?, ?)",
      event.runId,
      event.data.server,
      JSON.stringify(event.data.tools),
      event.data.digest,
      event.seq,
    );
  },
};

/** The tool lists recorded for a run, by server name. */
export function recordedMcpTools(sql: SqlPort, runId: string): Map<string, RecordedMcpTools> {
  const rows = sql.exec<Row>(
    "SELECT server, tools, digest, seq FROM mcp_tools WHERE run_id = ?",
    runId,
  );
  return new Map(
    rows.map((r) => [
      r.server,
      {
        server: r.server,
        tools: JSON.parse(r.tools) as McpToolDescriptor[],
        digest: r.digest,
        seq: r.seq,
      },
    ]),
  );
}

/** The digest of a server's latest recorded list in this session (to see a changed server in the history). */
export function latestMcpDigest(sql: SqlPort, server: string): string | undefined {
  return sql.exec<{ digest: string }>(
    "SELECT digest FROM mcp_tools WHERE server = ? ORDER BY seq DESC LIMIT 1",
    server,
  )[0]?.digest;
}
