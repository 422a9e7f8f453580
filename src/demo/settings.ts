/**
 * The demo's settings: every setting of `run` (flags win over the environment), with the demo's own
 * defaults where the user set nothing, and never the user's DATABASE_URL — the demo brings its own.
 */
import path from 'node:path';
import { loadConfig, SETTINGS, type Config } from '../config.js';

/** Defaults of the demo that differ from `run`'s (docs/contract.md §3): local, quick, quiet. */
export const DEMO_DEFAULTS = {
  configDir: 'traefik-configs',
  httpAddr: '127.0.0.1:9090',
  interval: '10s',
  logLevel: 'warn',
} as const satisfies Partial<Record<keyof typeof SETTINGS, string>>;

type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;
type Env = Readonly<Record<string, string | undefined>>;

/**
 * The Config the demo runs with, before its database exists (`databaseUrl` undefined). `values` are the parsed flags, `env` the environment. `configDir` is absolute.
 * Throws the same UserError as `run` for a bad value.
 */
export function demoConfig(values: Values, env: Env): Config {
  const flags: Record<string, string | undefined> = {};
  for (const [key, s] of Object.entries(SETTINGS)) {
    const flag = values[s.flag];
    flags[s.flag] = typeof flag === 'string' && flag !== '' ? flag : undefined;
    const set = flags[s.flag] !== undefined || ('env' in s && !!env[s.env]);
    if (!set && key in DEMO_DEFAULTS) flags[s.flag] = DEMO_DEFAULTS[key as keyof typeof DEMO_DEFAULTS];
  }
  flags[SETTINGS.databaseUrl.flag] = undefined;
  const config = loadConfig(flags, { ...env, [SETTINGS.databaseUrl.env]: undefined });
  return Object.freeze({ ...config, configDir: path.resolve(config.configDir) });
}

/** Whether the user gave a DATABASE_URL (flag or environment) other than `databaseUrl`: the demo ignores it. */
export function otherDatabaseUrl(values: Values, env: Env, databaseUrl: string): boolean {
  const given = values[SETTINGS.databaseUrl.flag] ?? env[SETTINGS.databaseUrl.env];
  return typeof given === 'string' && given !== '' && given !== databaseUrl;
}
