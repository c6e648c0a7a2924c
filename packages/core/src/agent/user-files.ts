import type { LanguageModelV4FilePart } from "@ai-sdk/provider";
import * as z from "zod/mini";
import { text } from "../validation/fields.ts";

/**
 * Files and images in a run's user message.
 *
 * Invariants:
 * 1. They come in as the AI SDK's `ImagePart` (`{ type: "image", image, mediaType? }`) or
 *    `FilePart` (`{ type: "file", data, mediaType, filename? }`), with the content as a
 *    base64 `data:` URL or an `https:` URL (JSON has no bytes), and are checked here, once,
 *    for every door (`POST .../runs`, WebSocket frames, the AI SDK chat route).
 * 2. The ledger (`run.started` `input.files`) and the messages projection keep one shape, the
 *    AI SDK UI's `FileUIPart`: `{ type: "file", mediaType, url, filename? }`.
 * 3. The model gets them as provider-spec file parts: a data URL as its base64 data, an https
 *    URL as a URL (the provider fetches it, or sends it on to its API).
 */

/** A file of a user message, as the ledger records it (the AI SDK UI's `FileUIPart`). */
export interface UserFile {
  readonly type: "file";
  /** `type/subtype` (`image/png`); `image/*` for an https image given without one. */
  readonly mediaType: string;
  /** A `data:<mediaType>;base64,...` URL or an `https:` URL. */
  readonly url: string;
  readonly filename?: string;
}

/** Most files in one user message. */
export const MAX_USER_FILES = 16;
/**
 * Most characters of all the file URLs of one user message together (768 KiB: about 576 KiB
 * of binary as base64), so that `run.started` stays under the ledger's 1 MiB event limit.
 * Larger files go by https URL.
 */
export const MAX_USER_FILE_CHARS = 768 * 1024;

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;
const DATA_URL = /^data:([^;,]+)((?:;[^;,=]+=[^;,]*)*);base64,([A-Za-z0-9+/]*={0,2})$/;

const mediaType = z.string().check(z.regex(MEDIA_TYPE, "must be a media type such as image/png"));
const filename = text(1, 256);

/**
 * The content of a part: a base64 data URL or an https URL. Checked here rather than by the
 * provider, so a malformed one is a 400 before the run starts instead of a failed run.
 */
const content = z.string().check(
  z.superRefine((value: string, ctx) => {
    if (value.startsWith("data:")) {
      const match = DATA_URL.exec(value);
      if (!match || !MEDIA_TYPE.test(match[1] ?? "") || (match[3] ?? "").length % 4 !== 0)
        ctx.addIssue({
          code: "custom",
          message:
            "is not a base64 data URL: send data:<type>/<subtype>;base64,<data> (standard base64, padded)",
        });
      else if (match[3] === "") ctx.addIssue({ code: "custom", message: "is an empty data URL" });
      return;
    }
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== "https:")
      ctx.addIssue({
        code: "custom",
        message: `must be a base64 data URL or an https URL, not "${value.slice(0, 40)}"`,
      });
  }),
);

/** The AI SDK's `ImagePart` over JSON. */
const imagePart = z.strictObject({
  type: z.literal("image"),
  image: content,
  mediaType: z.optional(mediaType),
});

/** The AI SDK's `FilePart` over JSON. */
const filePart = z.strictObject({
  type: z.literal("file"),
  data: content,
  mediaType,
  filename: z.optional(filename),
});

export type UserFileInput = z.infer<typeof imagePart> | z.infer<typeof filePart>;

/** The `files` of a start's input: up to 16 AI SDK image or file parts, 768 KiB of URLs in all. */
export const userFilesSchema = z.array(z.discriminatedUnion("type", [imagePart, filePart])).check(
  z.maxLength(MAX_USER_FILES),
  z.superRefine((parts: UserFileInput[], ctx) => {
    const chars = parts.reduce((n, p) => n + (p.type === "image" ? p.image : p.data).length, 0);
    if (chars > MAX_USER_FILE_CHARS)
      ctx.addIssue({
        code: "custom",
        message: `the files are ${chars} characters of URLs together; at most ${MAX_USER_FILE_CHARS} fit in one message (about 576 KiB of binary as base64): link larger files by https URL`,
      });
    for (const [i, part] of parts.entries()) {
      const url = part.type === "image" ? part.image : part.data;
      const declared = dataUrlType(url);
      const type = part.mediaType ?? declared;
      if (declared && type && declared.toLowerCase() !== type.toLowerCase())
        ctx.addIssue({
          code: "custom",
          path: [i, "mediaType"],
          message: `is ${type} but the data URL says ${declared}; make them agree`,
        });
      if (part.type === "image" && type && !type.toLowerCase().startsWith("image/"))
        ctx.addIssue({
          code: "custom",
          path: [i, "mediaType"],
          message: `is ${type}, not an image type: send it as { type: "file", data, mediaType }`,
        });
    }
  }),
);

/** The recorded form of checked input parts (invariant 2). */
export function toUserFiles(parts: readonly UserFileInput[]): UserFile[] {
  return parts.map((part) => {
    const url = part.type === "image" ? part.image : part.data;
    const type = part.mediaType ?? dataUrlType(url) ?? "image/*";
    return {
      type: "file",
      mediaType: type.toLowerCase(),
      url,
      ...(part.type === "file" && part.filename !== undefined ? { filename: part.filename } : {}),
    };
  });
}

/**
 * A recorded file as the input part it was checked from (toUserFiles gives it back): what a start
 * that carries a recorded message again (a chat's regenerate) hands in. An https image recorded
 * without a type (`image/*`) is an `ImagePart` without `mediaType`.
 */
export function toUserFileInput(file: UserFile): UserFileInput {
  if (file.mediaType === "image/*") return { type: "image", image: file.url };
  return {
    type: "file",
    data: file.url,
    mediaType: file.mediaType,
    ...(file.filename !== undefined ? { filename: file.filename } : {}),
  };
}

/** A recorded file as the provider-spec prompt part (invariant 3). */
export function toPromptFile(file: UserFile): LanguageModelV4FilePart {
  const base64 = fileBase64(file);
  return {
    type: "file",
    mediaType: file.mediaType,
    data:
      base64 === null ? { type: "url", url: new URL(file.url) } : { type: "data", data: base64 },
    ...(file.filename !== undefined ? { filename: file.filename } : {}),
  };
}

/** A recorded file's bytes as base64 when its URL is a data URL (checked base64); null for an https URL. */
export function fileBase64(file: UserFile): string | null {
  return file.url.startsWith("data:") ? file.url.slice(file.url.indexOf(",") + 1) : null;
}

function dataUrlType(url: string): string | undefined {
  return url.startsWith("data:") ? DATA_URL.exec(url)?.[1] : undefined;
}
