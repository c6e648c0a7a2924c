// zod's `locales` namespace with English only: see wrangler.jsonc beside this file.
export { default as en } from "zod/v4/locales/en.js";
