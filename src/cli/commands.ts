/**
 * Every command of the CLI, and where it lives. `main.ts` parses a command line against this
 * table; `traefik-sync --help` lists the commands in this order.
 */
import type { Command } from './command.js';
import { applyCommand, exportCommand, historyCommand, importCommand, rollbackCommand } from './config-commands.js';
import { demoCommand } from './demo-command.js';
import { runCommand } from './run-command.js';
import { diffCommand, migrateCommand, syncCommand } from './sync-commands.js';

/** Commands by name. */
export const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  // The sidecar and its one-shot forms (sync-commands.ts, run-command.ts).
  run: runCommand,
  sync: syncCommand,
  diff: diffCommand,
  migrate: migrateCommand,
  // The desired state, through the config service (config-commands.ts).
  apply: applyCommand,
  export: exportCommand,
  import: importCommand,
  history: historyCommand,
  rollback: rollbackCommand,
  // Everything in one process, to try it (demo-command.ts → demo/).
  demo: demoCommand,
});
