/**
 * TCP/UDP routes from elsewhere (docs/spec-format.md "TCP and UDP", "import DIR"): routers of
 * existing Traefik files imported (what maps, and the rest reported with the reason), and
 * examples/l4 applied against the TRAEFIK_STATIC_FILE beside it. Each case has a database of its own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { ValidationError } from '../../src/config-service/errors.js';
import { TraefikConfigService } from '../../src/config-service/service.js';
import { parseStaticOverlay } from '../../src/render/static-overlay.js';
import { DEFAULT_STATIC_SETTINGS } from '../../src/render/static-settings.js';
import { createTestDatabase } from '../helpers/db.js';
import { L4_STATIC } from './l4-cases.js';

describe('import', () => {
  it('maps TCP and UDP routers of existing files, and reports the rest with the reason', async () => {
    // Its own database: the suite's projects hold the UDP entry point.
    const own = await createTestDatabase();
    onTestFinished(() => own.drop());
    const svc = new TraefikConfigService(own.db, { actor: 'l4', configDir: '/cfg', traefikStatic: L4_STATIC });
    const dir = new URL('../fixtures/import/l4/', import.meta.url).pathname;
    const o = await svc.importDirectory(dir, { project: 'stream' });
    expect(o.projects.map((p) => [p.name, p.domains, p.l4Routes])).toEqual([['stream', 0, 3]]);
    const spec = parse((await svc.exportSpec('stream')).yaml);
    const db = [
      { host: 'db-0.stream.internal', port: 5432 },
      { host: 'db-1.stream.internal', port: 5432 },
    ];
    expect(spec.tcp).toEqual([
      { name: 'db', entryPoint: 'postgres', sni: 'db.stream.example.org', tls: 'terminate', servers: db },
      {
        name: 'mqtt',
        entryPoint: 'mqtts',
        sni: 'mqtt.stream.example.org',
        tls: 'passthrough',
        servers: [{ host: 'mqtt.stream.internal', port: 8883 }],
        proxyProtocol: 1,
      },
    ]);
    expect(spec.udp).toEqual([{ name: 'dns', entryPoint: 'dns', servers: [{ host: 'dns.stream.internal', port: 53 }] }]);
    const skipped = Object.fromEntries(o.notes.filter((n) => n.status === 'skipped').map((n) => [n.item, n.reason]));
    expect(skipped).toMatchObject({
      'tcp.routers.no-tls': expect.stringMatching(/only sent in a TLS handshake/),
      'tcp.routers.mysql': expect.stringMatching(/no entry point named "mysql"/),
      'tcp.routers.regexp': expect.stringMatching(/is not one HostSNI/),
      'tcp.routers.everywhere': expect.stringMatching(/no entryPoints/),
      'tcp.middlewares.allow': expect.stringMatching(/not supported/),
    });
  });
});

describe('examples/l4', () => {
  const example = (f: string) => readFileSync(new URL(`../../examples/l4/${f}`, import.meta.url));
  it('applies against the entry points of its own TRAEFIK_STATIC_FILE, and not without them', async () => {
    // Its own database: the suite's projects hold the same UDP entry point name.
    const own = await createTestDatabase();
    onTestFinished(() => own.drop());
    const spec = parse(example('edge.yaml').toString('utf8'));
    const overlay = parseStaticOverlay(example('traefik-static.yml'), 'examples/l4/traefik-static.yml', 'TRAEFIK_STATIC_FILE');
    const bare = new TraefikConfigService(own.db, { actor: 'l4', configDir: '/cfg' });
    const err = await bare.apply(spec).catch((e: unknown) => e);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain('tcp[0].entryPoint');
    const withOverlay = new TraefikConfigService(own.db, {
      actor: 'l4',
      configDir: '/cfg',
      traefikStatic: { ...DEFAULT_STATIC_SETTINGS, overlay },
    });
    await withOverlay.apply(spec);
    const files = (await withOverlay.preview('edge-example')).files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dynamic/edge-example/tcp.yml', 'dynamic/edge-example/udp.yml']));
  });
});
