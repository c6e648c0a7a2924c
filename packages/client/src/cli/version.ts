import { createRequire } from "node:module";

/** This package's version, from its package.json (two levels up from src/cli and dist/cli). */
export const CLIENT_VERSION: string = (
  createRequire(import.meta.url)("../../package.json") as { version: string }
).version;
