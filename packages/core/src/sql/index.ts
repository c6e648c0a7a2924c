export { type Migration, migrate } from "./migrate.ts";
export { one, type SqlPort, type SqlRow, type SqlValue } from "./port.ts";
