import { createAgentServer } from "@durable-agents/cloudflare";
import { faultAgent } from "../../packages/cloudflare/test/fixture/fault-agent.ts";
import { probe } from "../../packages/cloudflare/test/fixture/probe.ts";

const shared = {
  agents: [faultAgent],
  coalesce: { maxDelayMs: 0, maxChars: 64 },
  // A benchmark on loopback: no session tokens.
  authorize: () => true,
  faults: (ctx: DurableObjectState) => (point: string, info: { sessionId?: string }) =>
    probe.hit(point, ctx, info.sessionId),
} as const;

/** As shipped: a restarted object redrives what the crashed one left. */
export const AgentSession = createAgentServer({ ...shared });

/** The peer: recovery waits for the dead instance's lease (3 s here; 30 s by default). */
export const LeaseOnlySession = createAgentServer({
  ...shared,
  binding: "LEASE_AGENTS",
  redriveOnRestart: false,
  pump: { leaseMs: 3_000 },
});

export default { fetch: () => new Response("recovery bench worker") };
