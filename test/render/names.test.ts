/**
 * The renderer checks the names that become paths itself (project, service, full_domain, host):
 * rows written past the database's constraints (a restored dump, a dropped constraint, another
 * writer) must not turn into a file outside the project's directory.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { ProjectState } from '../../src/model.js';
import { DNS_LABEL_PATTERN } from '../../src/model.js';
import { renderProject } from '../../src/render/project.js';
import { shop } from './fixtures.js';

const withService = (name: string): ProjectState => ({
  ...shop,
  services: shop.services.map((s, i) => (i === 0 ? { ...s, name } : s)),
});

const withFullDomain = (fullDomain: string): ProjectState => ({
  ...shop,
  domains: shop.domains.map((d) => (d.sslProvider === 'custom' ? { ...d, fullDomain } : d)),
});

const CASES: ReadonlyArray<[string, ProjectState, RegExp]> = [
  ['a service named ../../../static/traefik', withService('../../../static/traefik'), /service name/],
  ['a service named a/b', withService('a/b'), /service name/],
  ['a service named ..', withService('..'), /service name/],
  ['a service named with upper case', withService('API'), /service name/],
  ['a service named with a NUL byte', withService('a\u0000b'), /service name/],
  ['a project named ../../static', { ...shop, name: '../../static' }, /project name/],
  ['a project named with "_" (the name separator)', { ...shop, name: 'a_b' }, /project name/],
  ['a project named ""', { ...shop, name: '' }, /project name/],
  ['a full_domain ../../static/traefik', withFullDomain('../../static/traefik'), /full_domain/],
  ['a full_domain with a slash', withFullDomain('a/b.example'), /full_domain/],
  ['a full_domain with an empty label', withFullDomain('a..example'), /full_domain/],
];

describe('the renderer validates names itself', () => {
  it.each(CASES)('%s: a problem naming the field, and no file', (_why, state, field) => {
    const r = renderProject(state, { configDir: '/cfg' });
    expect(r.files).toEqual([]);
    expect(r.problems.join('\n')).toMatch(field);
  });

  it('no rendered path ever leaves dynamic/<project>/ or ssl/ (valid names)', () => {
    const r = renderProject(shop, { configDir: '/cfg' });
    expect(r.problems).toEqual([]);
    for (const f of r.files)
      expect(f.path).toMatch(/^(dynamic\/shop\/(services\/)?[a-z0-9-]+\.yml|ssl\/(certs|keys)\/[a-z0-9.-]+\.(crt|key))$/);
  });

  it('one name pattern: the database constraints say the same as the renderer', () => {
    const schema = readFileSync(new URL('../../sql/001_schema.sql', import.meta.url), 'utf8');
    expect(schema).toContain(`projects_name_format CHECK (name ~ '${DNS_LABEL_PATTERN}')`);
    expect(schema).toContain(`services_name_format CHECK (name ~ '${DNS_LABEL_PATTERN}')`);
  });
});
