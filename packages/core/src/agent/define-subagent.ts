import type { ToolDefinition } from "./define-tool.ts";
import { withJsonSchema } from "./schema-convert.ts";
import type { ToolInputSchema } from "./tool-schema.ts";

/** How a tool hands its call to another agent's session. */
export interface Delegation<Input = unknown> {
  /** The child agent's name (registered on the same server). */
  readonly agent: string;
  /** The message the child run starts with. */
  readonly message: (input: Input) => string;
}

export type SubagentTool<Input = unknown> = ToolDefinition<Input, unknown, never> & {
  readonly delegate: Delegation<Input>;
};

/**
 * A tool answered by a sub-agent: the call starts a run of `agent` in a child
 * session (its own object), and the parent waits without holding a request
 * open. The child's final output becomes the tool's result; its token usage
 * rolls up into the parent's.
 * @example
 * defineSubagent({ name: "research", description: "Researches a topic", agent: "researcher",
 *   input: z.object({ topic: z.string() }), message: ({ topic }) => `Research ${topic}` })
 */
export function defineSubagent<Input>(options: {
  name: string;
  description: string;
  agent: string;
  input: ToolInputSchema<Input>;
  message: (input: Input) => string;
}): SubagentTool<Input> {
  // Through asSchema here, as defineTool does, so any schema streamText takes works.
  withJsonSchema(options.input, `tool "${options.name}": its input schema`);
  return {
    name: options.name,
    description: options.description,
    input: options.input,
    effect: "idempotent",
    delegate: { agent: options.agent, message: options.message },
    execute: () => {
      throw new Error(
        `${options.name} is answered by the ${options.agent} sub-agent, not executed inline`,
      );
    },
  };
}

export function delegationOf(
  tool: ToolDefinition<unknown, unknown> | undefined,
): Delegation | undefined {
  return (tool as Partial<SubagentTool> | undefined)?.delegate;
}

/** The child session of a delegated call: derived, so a redelivered start finds the same child. */
export function childSessionId(parentSession: string, callId: string): string {
  return `${parentSession}.${callId.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 128);
}
