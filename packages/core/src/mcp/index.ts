// @durable-agents/core/mcp: MCP servers as tool sources, on the MCP TypeScript SDK.
// A separate entry point, so an agent without MCP servers never bundles the SDK.

export { isMcpContentResult, type McpContentResult, mcpModelOutput } from "./content.ts";
export { IDEMPOTENCY_META_KEY, type McpServerOptions, mcpServer } from "./mcp-server.ts";
export type { McpCallContext, McpToolDescriptor, McpToolSource } from "./source.ts";
