/**
 * Help text, generated from each command's declaration (its usage, description and
 * options), so `--help` always lists every option the parser accepts, aligned.
 */
import { COMMON_OPTIONS } from "./args.ts";
import type { CliOption, Command, Options } from "./context.ts";

export const BIN = "durable-agents";

/** `Usage: durable-agents <name> <usage> [options]`, the description, then every option. */
export function commandHelp(command: Command): string {
  const options = { ...command.options, ...COMMON_OPTIONS } as Options;
  const sections = [`Usage: ${BIN} ${command.name} ${command.usage} [options]`.replace("  ", " ")];
  sections.push(command.description ?? command.summary);
  sections.push(`Options:\n${optionTable(options)}`);
  if (command.examples?.length)
    sections.push(`Examples:\n${command.examples.map((e) => `  ${BIN} ${e}`).join("\n")}`);
  return sections.join("\n\n");
}

/** The command list, aligned. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return `${BIN}: talk to durable agents and follow their sessions

Usage: ${BIN} <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Every command takes:
${optionTable(COMMON_OPTIONS)}
${BIN} --version prints the version; ${BIN} <command> --help explains a command.

Examples:
  ${BIN} chat "What is 2+3?"
  ${BIN} tail assistant/<session>`;
}

function optionTable(options: Options): string {
  const rows = Object.entries(options).map(([name, option]) => [
    flag(name, option),
    describe(option),
  ]);
  const width = Math.max(...rows.map(([f]) => (f as string).length)) + 2;
  return rows
    .map(([f, d]) => `  ${(f as string).padEnd(width)}${wrap(d as string, 2 + width)}`)
    .join("\n");
}

/** Wraps `text` at 80 columns, continuation lines indented to `indent`. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent + line.length + 1 + word.length > 80) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

function flag(name: string, option: CliOption): string {
  const short = option.short === undefined ? "" : `-${option.short}, `;
  const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
  return `${short}--${name}${value}`;
}

function describe(option: CliOption): string {
  const fallback = option.default;
  return fallback === undefined || typeof fallback === "boolean"
    ? option.description
    : `${option.description} (default: ${String(fallback)})`;
}
