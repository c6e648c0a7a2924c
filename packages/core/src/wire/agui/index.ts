export { type AguiProjectorOptions, createAguiProjector } from "./agui-projector.ts";
export { type AguiEvent, type AguiMessage, toAguiMessages } from "./agui-types.ts";
