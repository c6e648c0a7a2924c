/** AG-UI's RunAgentInput read into a start, and the start's paths named in its terms. */
import { describe, expect, it } from "vitest";
import { requestPath } from "../start-source.ts";
import { aguiUserTurn, RUN_AGENT_INPUT_TERMS, runAgentInputSchema } from "./run-agent-input.ts";

const input = (content: unknown) =>
  runAgentInputSchema.parse({
    threadId: "t",
    runId: "r",
    messages: [
      { id: "s", role: "system", content: "Be brief." },
      { id: "u", role: "user", content },
    ],
  });

describe("RunAgentInput → start", () => {
  it("maps every start path AG-UI's start is built with back to the RunAgentInput", () => {
    // messages[2] is the user message; its content: text, image, text, document.
    const source = { messageIndex: 2, fileParts: [1, 3] };
    const path = (p: string) => requestPath(RUN_AGENT_INPUT_TERMS, source, p);
    expect(path("input.message")).toBe("messages.2.content");
    expect(path("input.files")).toBe("messages.2.content");
    expect(path("input.files.1")).toBe("messages.2.content.3");
    expect(path("input.files.0.image")).toBe("messages.2.content.1.source.value");
    expect(path("input.files.1.data")).toBe("messages.2.content.3.source.value");
    expect(path("input.files.1.mediaType")).toBe("messages.2.content.3.source.mimeType");
    expect(path("input.files.1.type")).toBe("messages.2.content.3.type");
    expect(path("input.files.7.data")).toBe("input.files.7.data");
    expect(path("input.replaces")).toBe("input.replaces");
  });

  it("reads the text parts as the message and the media parts as files, where they sit", () => {
    const turn = aguiUserTurn(
      input([
        { type: "text", text: "What " },
        { type: "image", source: { type: "url", value: "https://x.test/a.png" } },
        { type: "text", text: "is this?" },
        { type: "audio", source: { type: "data", value: "AAAA", mimeType: "audio/wav" } },
      ]),
    );
    expect(turn).toEqual({
      message: "What is this?",
      files: [
        { type: "image", image: "https://x.test/a.png" },
        { type: "file", data: "data:audio/wav;base64,AAAA", mediaType: "audio/wav" },
      ],
      source: { messageIndex: 1, fileParts: [1, 3] },
    });
    expect(aguiUserTurn(input("hi"))).toEqual({
      message: "hi",
      files: [],
      source: { messageIndex: 1, fileParts: [] },
    });
  });

  it("refuses a user message without text, and a provider's file handle, by their paths", () => {
    const image = { type: "image", source: { type: "url", value: "https://x.test/a.png" } };
    expect(() => aguiUserTurn(input([image]))).toThrow(/messages\.1 must be a user message/);
    expect(() =>
      aguiUserTurn(
        input([
          { type: "text", text: "hi" },
          { type: "document", source: { type: "file", value: "f" } },
        ]),
      ),
    ).toThrow(/^the RunAgentInput is invalid: messages\.1\.content\.1\.source\.type: /);
  });
});
