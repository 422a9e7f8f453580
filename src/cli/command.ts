/**
 * What a command is, and the helpers every command shares: its context (parsed flags, settings,
 * output), a database opened for the length of the command, a project found by name.
 */
import type { ParseArgsConfig } from 'node:util';
import { requireDatabaseUrl, settingName, SETTINGS, type Config } from '../config.js';
import { addressOf, connect, connectFailure, sql, type ConnectionPool } from '../db/connect.js';
import { UserError, quote } from '../errors.js';
import { readDiskFiles, listFiles } from '../fs/scan.js';
import { createLogger, type Logger } from '../log.js';
import { DNS_LABEL } from '../model.js';
import { layout } from '../render/project.js';

/** parseArgs option declarations. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** One command of the CLI (listed in commands.ts). */
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

/** What a command runs with. */
export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
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
  if (!DNS_LABEL.test(name)) {
    throw new UserError(`--project: expected a project name (lower-case letters, digits and "-"), got ${quote(name)}`);
  }
  const [row] = await db.query(sql`SELECT id FROM projects WHERE name = ${name}`);
  if (row) return row.id as string;
  const files = await readDiskFiles(root, await listFiles(root, layout.projectDir(name)));
  const owner = files.find((f) => f.owned && f.projectId)?.projectId;
  if (owner) return owner;
  throw new UserError(`--project: no project named ${quote(name)}`);
}
