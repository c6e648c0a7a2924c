// The official client, kept out of this project's type-check (it compiles under DOM types,
// not workers-types); official-client.d.ts gives the part the tests use.
export { createClient } from "../../../client/src/index.ts";
