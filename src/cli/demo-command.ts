/**
 * `demo`: embedded PostgreSQL, the examples and the controller in one process (demo/demo.ts).
 */
import { demo } from '../demo/demo.js';
import { DEMO_DEFAULTS } from '../demo/settings.js';
import type { Command } from './command.js';

/** `demo` (also `npm run demo`). */
export const demoCommand: Command = {
  summary: `embedded PostgreSQL + sample projects + the controller writing ./${DEMO_DEFAULTS.configDir} (operator page and metrics on ${DEMO_DEFAULTS.httpAddr})`,
  usage: [
    'traefik-sync demo [--data-dir ./.traefik-sync-demo] [--traefik PATH|off] [settings flags]',
    '',
    `Every setting of \`run\` applies (flags win over the environment), with the demo's own defaults where none is set:`,
    `--config-dir ./${DEMO_DEFAULTS.configDir}, --http-addr ${DEMO_DEFAULTS.httpAddr}, --interval ${DEMO_DEFAULTS.interval}, --log-level ${DEMO_DEFAULTS.logLevel}.`,
    '--database-url (DATABASE_URL) is ignored: the demo runs its own PostgreSQL in --data-dir, on the same port as last time',
    'when it is free. The examples are applied when that database is created, not on later runs.',
    'With a Traefik binary (--traefik PATH, else TRAEFIK_BIN, .tools/, PATH; "off": none) the demo also runs Traefik on free',
    'loopback ports with the generated static config, and a sample project "hello" on two loopback backends (blue, green).',
  ].join('\n'),
  options: { 'data-dir': { type: 'string' }, traefik: { type: 'string' } },
  run: demo,
};
