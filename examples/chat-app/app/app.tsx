import { useAgentChat } from "@durable-agents/client/react";
import { isToolUIPart, type UIMessage } from "ai";
import { type FormEvent, useState } from "react";

/** A chat on useAgentChat: text as it streams, tool calls, approvals, stop and regenerate. */
export function App({ id }: { id: string }) {
  const chat = useAgentChat({ agent: "assistant", id, baseUrl: location.origin });
  const [draft, setDraft] = useState("");
  const busy = chat.status === "submitted" || chat.status === "streaming";
  const send = async (event: FormEvent) => {
    event.preventDefault();
    const text = draft;
    if (!text.trim()) return;
    setDraft("");
    const before = chat.chat.messages.length;
    await chat.sendMessage({ text });
    // Refused (another tab's run is active): the message was taken back; so is its text.
    if (chat.chat.error && chat.chat.messages.length === before) setDraft((now) => now || text);
  };
  return (
    <main>
      <h1>durable-agents chat</h1>
      <p className="status" data-testid="status">
        {chat.loaded ? chat.status : "loading"}
      </p>
      {chat.messages.map((message) => (
        <Message key={message.id} message={message} chat={chat} />
      ))}
      {chat.error && <p className="status error">{chat.error.message}</p>}
      <form onSubmit={(event) => void send(event)}>
        <input
          aria-label="message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder='Try "What is (2+3)*4?" or "clear my notes"'
        />
        <button type="submit" disabled={busy || !chat.loaded}>
          Send
        </button>
        <button type="button" disabled={!busy} onClick={() => void chat.stop()}>
          Stop
        </button>
        <button
          type="button"
          disabled={busy || chat.messages.at(-1)?.role !== "assistant"}
          onClick={() => void chat.regenerate()}
        >
          Regenerate
        </button>
      </form>
    </main>
  );
}

function Message({ message, chat }: { message: UIMessage; chat: ReturnType<typeof useAgentChat> }) {
  return (
    <div className={`message ${message.role}`} data-role={message.role}>
      {message.parts.map((part, i) => {
        const key = `${message.id}-${i}`;
        if (part.type === "text") return <p key={key}>{part.text}</p>;
        if (!isToolUIPart(part)) return null;
        const name = part.type.slice("tool-".length);
        return (
          <div key={key} className="tool" data-tool={name} data-state={part.state}>
            {name}({JSON.stringify(part.input)}) · {part.state}
            {part.state === "output-available" && <> → {JSON.stringify(part.output)}</>}
            {part.state === "input-available" && name === "browser_time" && (
              <div className="approval">
                <button
                  type="button"
                  onClick={() =>
                    void chat.addToolOutput({
                      tool: name,
                      toolCallId: part.toolCallId,
                      output: {
                        time: new Date().toISOString(),
                        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
                      },
                    })
                  }
                >
                  Share my time
                </button>
              </div>
            )}
            {part.state === "approval-requested" && name !== "browser_time" && (
              <div className="approval">
                <button
                  type="button"
                  onClick={() =>
                    void chat.addToolApprovalResponse({ id: part.approval.id, approved: true })
                  }
                >
                  Approve
                </button>
                <button
                  type="button"
                  onClick={() =>
                    void chat.addToolApprovalResponse({ id: part.approval.id, approved: false })
                  }
                >
                  Deny
                </button>
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
