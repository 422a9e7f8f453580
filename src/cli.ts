/**
 * Command line (docs/contract.md §3). The composition root for one-shot commands: parse flags, build real
 * dependencies, run, return the exit code. User errors print one line, never a stack.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, requireDatabaseUrl, settingName, SETTINGS, type Config } from './config.js';
import { addressOf, connect, connectFailure, sql, type ConnectionPool } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { UserError, messageOf, quote } from './errors.js';
import { readDiskFiles, listFiles } from './fs/scan.js';
import { createLogger, type Logger } from './log.js';
import { redact } from './redact.js';
import { unifiedDiff } from './reconcile/diff.js';
import { TraefikSyncService, totals, type SyncReport } from './reconcile/sync-service.js';
import { layout } from './render/project.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command accepts: the settings of docs/contract.md §3. */
const SETTING_FLAGS: Options = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' }]));

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  /** How many positional arguments the command takes at most (default 0); more are refused. */
  readonly maxArguments?: number;
  /** Exit code of every error, when the command's codes give 1 another meaning (diff: "differences"). */
  readonly errorExitCode?: number;
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Commands by name; later modules register more (see registerCommand). */
export const commands = new Map<string, Command>();

/** Add a command to the CLI. */
export function registerCommand(name: string, command: Command): void {
  commands.set(name, command);
}

/** A logger for one-shot commands: JSON on stderr, so stdout carries the command's output. */
export function commandLogger(config: Config): Logger {
  return createLogger(config.logLevel, process.stderr);
}

/**
 * Open the database of `config`, run `fn`, close. A database that cannot be reached fails first,
 * with one line naming its address and the setting (never the password).
 */
export async function withDatabase<T>(config: Config, fn: (db: ConnectionPool) => Promise<T>): Promise<T> {
  const url = requireDatabaseUrl(config);
  const db = connect(url, { poolSize: 4, setting: settingName(SETTINGS.databaseUrl) });
  try {
    await db.query(sql`SELECT 1`).catch((e: unknown) => {
      throw new UserError(
        `cannot connect to the database at ${addressOf(url)} (--${SETTINGS.databaseUrl.flag}, ${SETTINGS.databaseUrl.env}): ${connectFailure(e)}`,
      );
    });
    return await fn(db);
  } finally {
    await db.dispose().catch(() => {});
  }
}

/** Resolve a project name to its id: from the database, else from the headers of its files. */
export async function projectIdByName(db: ConnectionPool, root: string, name: string): Promise<string> {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    throw new UserError(`--project: expected a project name (lower-case letters, digits and "-"), got ${quote(name)}`);
  }
  const [row] = await db.query(sql`SELECT id FROM projects WHERE name = ${name}`);
  if (row) return row.id as string;
  const files = await readDiskFiles(root, await listFiles(root, layout.projectDir(name)));
  const owner = files.find((f) => f.owned && f.projectId)?.projectId;
  if (owner) return owner;
  throw new UserError(`--project: no project named ${quote(name)}`);
}

function syncService(config: Config, db: ConnectionPool, log: Logger): TraefikSyncService {
  return new TraefikSyncService({
    db,
    root: config.configDir,
    driftMode: config.driftMode,
    maxDeleteFraction: config.maxDeleteFraction,
    log,
    staticSettings: config.traefikStatic,
  });
}

/** Who a result is about: a project, or the static files (projectId null). */
export function unitLabel(r: { readonly projectId: string | null; readonly projectName: string | null }): string {
  return r.projectId === null ? `static files (${layout.static})` : `project ${r.projectName ?? r.projectId}`;
}

/** Human summary of a pass: counts of projects (the static files are not one), then one line per problem. */
export function describeReport(report: SyncReport): string[] {
  const t = totals(report.results);
  const failed = report.results.filter((r) => r.status === 'failed');
  const drift = report.results.flatMap((r) => r.drift);
  const projects = report.results.filter((r) => r.projectId !== null).length;
  const failedProjects = failed.filter((r) => r.projectId !== null).length;
  const lines = [
    `${projects} project(s): ${t.created} file(s) created, ${t.updated} updated, ${t.deleted} deleted; ` +
      `${failedProjects} failed; ${drift.length} drifted file(s); ${report.durationMs} ms`,
  ];
  if (report.blocked) {
    lines.push(
      `delete guard: the pass would delete ${report.blocked.deletes} of ${report.blocked.managed} managed files (limit ${report.blocked.limit}); nothing was written. Raise --max-delete-fraction (MAX_DELETE_FRACTION) if this is intended.`,
    );
  }
  for (const r of failed) for (const p of r.problems.length ? r.problems : ['failed']) lines.push(`${unitLabel(r)}: ${p}`);
  for (const d of drift) lines.push(`drift: ${d.path} ${d.kind}${d.repaired ? ' (repaired)' : ' (reported only)'}`);
  for (const u of [...report.unowned, ...report.results.flatMap((r) => r.unowned)])
    lines.push(`not managed by traefik-sync (left alone): ${u}`);
  return lines;
}

registerCommand('migrate', {
  summary: 'apply the sql/ migrations to DATABASE_URL',
  usage: 'traefik-sync migrate [--database-url URL]',
  options: {},
  async run({ config, out }) {
    const applied = await withDatabase(config, (db) => migrate(db));
    out(applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date');
    return 0;
  },
});

registerCommand('sync', {
  summary: 'one full reconcile, then exit (init container, cron)',
  usage: 'traefik-sync sync --once [--project NAME] [--config-dir DIR]',
  options: { once: { type: 'boolean' }, project: { type: 'string' } },
  async run({ values, config, out }) {
    if (!values.once) throw new UserError('--once is required (the long-running controller is `traefik-sync run`)', 2);
    const log = commandLogger(config);
    return withDatabase(config, async (db) => {
      const service = syncService(config, db, log);
      const report =
        typeof values.project === 'string'
          ? await service.syncProjectConfigs(await projectIdByName(db, config.configDir, values.project))
          : await service.syncAllProjects();
      for (const line of describeReport(report)) out(line);
      const ok = !report.blocked && report.results.every((r) => r.status !== 'failed');
      return ok ? 0 : 1;
    });
  },
});

registerCommand('diff', {
  summary: 'unified diff of database-desired vs disk (keys masked); exit 0 none, 1 differences, 2 error',
  usage: 'traefik-sync diff [--project NAME] [--config-dir DIR]',
  options: { project: { type: 'string' } },
  errorExitCode: 2,
  async run({ values, config, out, err }) {
    const log = commandLogger(config);
    return withDatabase(config, async (db) => {
      const service = syncService(config, db, log);
      const name = typeof values.project === 'string' ? values.project : undefined;
      if (name !== undefined) await projectIdByName(db, config.configDir, name);
      const { changes, failed } = await service.preview();
      const mine =
        name === undefined ? changes : changes.filter((c) => c.projectName === name || c.path.startsWith(`${layout.projectDir(name)}/`));
      for (const c of mine) out(unifiedDiff(c).trimEnd());
      const failing = failed.filter((f) => name === undefined || f.projectName === name);
      for (const f of failing) for (const p of f.problems) err(`${unitLabel(f)}: ${p}`);
      if (failing.length) return 2;
      return mine.length ? 1 : 0;
    });
  },
});

function help(): string {
  const lines = ['Usage: traefik-sync <command> [flags]', '', 'Commands:'];
  for (const [name, c] of commands) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
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
  const command = commands.get(name);
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
    return await command.run({ values, positionals, config, env, out, err });
  } catch (e) {
    err(`traefik-sync ${name}: ${redact(messageOf(e))}`);
    return command.errorExitCode ?? (e instanceof UserError ? e.exitCode : 1);
  }
}
