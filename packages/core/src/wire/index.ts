// @durable-agents/core/wire: the ledger as other wire formats (SSE framing, AG-UI, AI SDK UI chunks).
export {
  type AguiEvent,
  type AguiMessage,
  type AguiProjectorOptions,
  createAguiProjector,
  toAguiMessages,
} from "./agui/index.ts";
export {
  type ChunkPosition,
  type ChunkProjector,
  chunkId,
  parseChunkPosition,
  warm,
} from "./chunk-projector.ts";
export { formatSse, SSE_HEADERS, type SseEvent, sseComment } from "./sse.ts";
export {
  createUiStreamProjector,
  UI_STREAM_DONE,
  UI_STREAM_HEADERS,
  type UiChunk,
} from "./ui-stream/index.ts";
