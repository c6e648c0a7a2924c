/** The part of `@durable-agents/client` the workerd tests use (see official-client.js). */
export interface LiveSession extends AsyncIterable<{ seq: number; kind: string }> {
  start(message: string): Promise<{ runId: string; offset: string; status: string }>;
  close(): void;
}

export function createClient(options: { baseUrl: string; WebSocket: unknown }): {
  session(agent: string, sessionId: string): { connect(): LiveSession };
};
