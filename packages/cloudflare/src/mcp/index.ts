// @durable-agents/cloudflare/mcp: agents served over MCP (`/mcp/:agent`). A separate entry
// point, so a Worker that does not serve MCP does not bundle the MCP SDK.

export { serveAgentMcp } from "./agent-mcp-server.ts";
