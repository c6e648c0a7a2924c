import { EventSchemas } from "@ag-ui/core/schemas";
import { describe, expect, it } from "vitest";
import { toAguiMessages } from "./agui-types.ts";

describe("toAguiMessages", () => {
  it("a user message's files become AG-UI media parts that validate against @ag-ui/core", () => {
    const messages = toAguiMessages([
      {
        id: "m1",
        index: 0,
        runId: "r1",
        role: "user",
        parts: [
          { type: "text", text: "look" },
          { type: "file", mediaType: "image/png", url: "data:image/png;base64,AAAA" },
          { type: "file", mediaType: "image/*", url: "https://x.test/a" },
          { type: "file", mediaType: "audio/wav", url: "data:audio/wav;base64,AAAA" },
          {
            type: "file",
            mediaType: "application/pdf",
            url: "https://x.test/a.pdf",
            filename: "a.pdf",
          },
        ],
      },
      { id: "m2", index: 1, runId: "r2", role: "user", parts: [{ type: "text", text: "hi" }] },
    ]);
    expect(messages.map((m) => m.content)).toEqual([
      [
        { type: "text", text: "look" },
        { type: "image", source: { type: "data", value: "AAAA", mimeType: "image/png" } },
        { type: "image", source: { type: "url", value: "https://x.test/a" } },
        { type: "audio", source: { type: "data", value: "AAAA", mimeType: "audio/wav" } },
        {
          type: "document",
          source: { type: "url", value: "https://x.test/a.pdf", mimeType: "application/pdf" },
          metadata: { filename: "a.pdf" },
        },
      ],
      "hi",
    ]);
    const snapshot = { type: "MESSAGES_SNAPSHOT", messages };
    expect(EventSchemas.safeParse(snapshot).error).toBeUndefined();
  });
});
