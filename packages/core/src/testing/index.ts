export { ManualClock } from "./manual-clock.ts";
export { inProcessSession, MemoryInstance, MemoryWorkflows } from "./memory-workflows.ts";
export { NodeSqlPort } from "./node-sqlite.ts";
export { createTestSession, type TestSession } from "./test-session.ts";
