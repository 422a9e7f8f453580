/**
 * Command line (docs/contract.md §3). The composition root for one-shot commands: parse flags, build real
 * dependencies, run, return the exit code. User errors print one line, never a stack.
 */
import { parseArgs } from 'node:util';
import { loadConfig, SETTINGS } from '../config.js';
import { UserError, messageOf, quote } from '../errors.js';
import { redact } from '../redact.js';
import type { Command, Options } from './command.js';
import { COMMANDS } from './commands.js';

/** Flags every command accepts: the settings of docs/contract.md §3. */
const SETTING_FLAGS: Options = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' }]));

function help(): string {
  const lines = ['Usage: traefik-sync <command> [flags]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Settings (flag, environment, default):');
  for (const s of Object.values(SETTINGS)) {
    const env = 'env' in s ? s.env : '';
    const def = 'def' in s ? s.def : '(required)';
    lines.push(`  --${s.flag.padEnd(22)} ${env.padEnd(22)} ${def}`);
  }
  lines.push('', 'Run `traefik-sync <command> --help` for the flags of one command.');
  return lines.join('\n');
}

/** A usage error: exit 2, pointing at the command's help. */
function usageError(name: string, message: string): UserError {
  return new UserError(`${message} (see traefik-sync ${name} --help)`, 2);
}

/**
 * Flags and arguments of `args` for `command`. parseArgs runs non-strict (its own messages are long
 * and multi-line); each problem is reported here in one line naming the flag: an unknown flag, a
 * value given to a switch, a missing value, more positional arguments than the command takes.
 * A value may start with "-" (`--limit -1` reaches the command's own check), unless it is
 * "--…" or one of the command's short flags: then the value was forgotten.
 */
function parseCommandLine(name: string, command: Command, args: string[]) {
  const options: Options = { ...SETTING_FLAGS, ...command.options, help: { type: 'boolean', short: 'h' } };
  const shorts = new Set(Object.values(options).flatMap((o) => (o.short ? [`-${o.short}`] : [])));
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    const type = Object.hasOwn(options, t.name) ? options[t.name]!.type : undefined;
    if (type === undefined) throw usageError(name, `unknown flag ${quote(t.rawName)}`);
    if (type === 'boolean' && t.value !== undefined) throw usageError(name, `${t.rawName} takes no value, got ${quote(t.value)}`);
    if (type === 'string' && t.value === undefined) throw usageError(name, `${t.rawName}: missing a value`);
    if (type === 'string' && !t.inlineValue && (t.value!.startsWith('--') || shorts.has(t.value!))) {
      throw usageError(name, `${t.rawName}: missing a value (got the flag ${t.value})`);
    }
  }
  const max = command.maxArguments ?? 0;
  if (parsed.positionals.length > max) {
    const takes = max === 0 ? 'no arguments' : `${max} argument${max === 1 ? '' : 's'}`;
    throw usageError(name, `unexpected argument ${quote(parsed.positionals[max])}: ${name} takes ${takes}`);
  }
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals };
}

/** Run the CLI; returns the process exit code. */
export async function main(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    out(help());
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command: Command | undefined = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    err(`traefik-sync: unknown command ${quote(name)}; run \`traefik-sync --help\` for the list`);
    return 2;
  }
  try {
    const { values, positionals } = parseCommandLine(name, command, args);
    if (values.help) {
      out(
        `${command.usage}\n\n${command.summary}\n\nAlso accepts the settings flags: ${Object.values(SETTINGS)
          .map((s) => `--${s.flag}`)
          .join(', ')}`,
      );
      return 0;
    }
    const flags = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, values[s.flag] as string | undefined]));
    const config = loadConfig(flags, env);
    for (const w of config.warnings) err(`traefik-sync ${name}: warning: ${w}`);
    return await command.run({ values, positionals, config, env, out, err });
  } catch (e) {
    err(`traefik-sync ${name}: ${redact(messageOf(e))}`);
    return command.errorExitCode ?? (e instanceof UserError ? e.exitCode : 1);
  }
}
