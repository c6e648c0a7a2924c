import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";

// The chat id lives in the URL (?chat=...), so a reload reopens the same session.
const url = new URL(location.href);
let id = url.searchParams.get("chat");
if (!id) {
  id = `chat-${crypto.randomUUID().slice(0, 8)}`;
  url.searchParams.set("chat", id);
  history.replaceState(null, "", url);
}
const root = document.getElementById("root");
if (root) createRoot(root).render(<App id={id} />);
