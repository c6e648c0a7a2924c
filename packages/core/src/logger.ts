/** The logger port. Library code logs through this, never through console.log. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Structured JSON lines on console.warn/error: what Workers Logs and `wrangler tail` show. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => console.warn(logLine("warn", message, fields)),
  error: (message, fields) => console.error(logLine("error", message, fields)),
};

/**
 * One JSON log line. `level` and `message` are ours: a field with either name (an error's
 * `message`, say) is kept as `fields.level` / `fields.message` instead of replacing them.
 */
export function logLine(
  level: string,
  message: string,
  fields: Record<string, unknown> = {},
): string {
  const { level: fieldLevel, message: fieldMessage, ...rest } = fields;
  const clashes = {
    ...(fieldLevel === undefined ? {} : { "fields.level": fieldLevel }),
    ...(fieldMessage === undefined ? {} : { "fields.message": fieldMessage }),
  };
  return JSON.stringify({ level, message, ...rest, ...clashes });
}
