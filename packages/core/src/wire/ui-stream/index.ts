export {
  createUiStreamProjector,
  UI_STREAM_DONE,
  UI_STREAM_HEADERS,
  type UiChunk,
} from "./ui-stream-projector.ts";
