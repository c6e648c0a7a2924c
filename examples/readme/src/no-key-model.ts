import { scriptedModel } from "@durable-agents/core";

// No API key: a deterministic stand-in for the model. It calls to_fahrenheit with the first
// number in the message, then answers with the tool's result.
export const noKeyModel = scriptedModel({
  rules: [
    ({ userText, turn, toolResults }) => {
      if (turn === 0) {
        const celsius = Number(/-?\d+(\.\d+)?/.exec(userText)?.[0] ?? 0);
        return { toolCalls: [{ name: "to_fahrenheit", args: { celsius } }] };
      }
      const output = toolResults[0]?.output as { fahrenheit: number };
      return { text: `That is ${output.fahrenheit} °F.` };
    },
  ],
});
