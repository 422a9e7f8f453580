/**
 * Specs for the HTTP capabilities of docs/spec-format.md ("Load balancing" and after): a valid
 * base project using them, and hostile variants of it, each naming the field its error must
 * point at. Used by http-breadth.test.ts (service API and CLI).
 */
import { expect } from 'vitest';
import { ValidationError } from '../../src/config-service/errors.js';
import type { TraefikConfigService } from '../../src/config-service/service.js';
import type { Queryable } from '../../src/db/connect.js';
import { rowCounts } from './helpers.js';

export type Spec = Record<string, any>;

/** A valid project using every HTTP capability (hosts are external: nothing here is loopback). */
export function baseHttp(): Spec {
  return {
    name: 'breadth',
    services: [
      { name: 'web', host: 'web.breadth.internal' },
      { name: 'canary', host: 'canary.breadth.internal' },
    ],
    domains: [
      {
        domain: 'breadth.example.org',
        provider: 'letsencrypt',
        routes: [
          {
            path: '/',
            service: 'web',
            targetPort: 8080,
            servers: [
              { host: 'web-0.breadth.internal', weight: 3 },
              { host: 'web-1.breadth.internal', port: 8081 },
              { url: 'h2c://web-2.breadth.internal:8082', weight: 0 },
            ],
            sticky: { cookie: { name: 'srv', secure: true, httpOnly: true, sameSite: 'lax', maxAge: 3600 } },
            healthCheck: { path: '/healthz', interval: '10s' },
          },
          { path: '/partner', service: 'web', targetPort: 443, targetUrl: 'https://api.partner.example.net', passHostHeader: false },
        ],
      },
    ],
  };
}

export interface HttpCase {
  readonly name: string;
  readonly mutate: (s: Spec) => void;
  /** The issue path the error must name exactly. */
  readonly field: string;
  /** Text the message must contain. */
  readonly says: RegExp;
}

/** Apply `spec` mutated by `c`: refused with an issue on `c.field` saying `c.says`, and nothing written. */
export async function expectRefused(svc: TraefikConfigService, db: Queryable, spec: Spec, c: HttpCase): Promise<void> {
  const before = await rowCounts(db);
  c.mutate(spec);
  const err = await svc.apply(spec).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  const issues = (err as ValidationError).issues;
  const issue = issues.find((i) => i.path === c.field);
  expect(issue, JSON.stringify(issues)).toBeDefined();
  expect(issue!.message).toMatch(c.says);
  expect(await rowCounts(db)).toEqual(before);
}

const root = (s: Spec) => s.domains[0].routes[0];

export const HTTP_HOSTILE: readonly HttpCase[] = [
  {
    name: 'a server weight of -1',
    field: 'domains[0].routes[0].servers[1].weight',
    says: /0–1000000.*got -1/,
    mutate: (s) => {
      root(s).servers[1].weight = -1;
    },
  },
  {
    name: 'a fractional weight',
    field: 'domains[0].routes[0].servers[0].weight',
    says: /whole number.*got 1\.5/,
    mutate: (s) => {
      root(s).servers[0].weight = 1.5;
    },
  },
  {
    name: 'every server of weight 0',
    field: 'domains[0].routes[0].servers',
    says: /weight 0/,
    mutate: (s) => {
      for (const x of root(s).servers) x.weight = 0;
    },
  },
  {
    name: 'a server with both url and host',
    field: 'domains[0].routes[0].servers[0]',
    says: /either url, or host/,
    mutate: (s) => {
      root(s).servers[0].url = 'http://x.example:1';
    },
  },
  {
    name: 'a server URL breaking out of its quoting',
    field: 'domains[0].routes[0].servers[2].url',
    says: /expected an http/,
    mutate: (s) => {
      root(s).servers[2].url = 'http://a.example`) || Host(`b';
    },
  },
  {
    name: 'servers together with targetUrl',
    field: 'domains[0].routes[0].servers',
    says: /targetUrl/,
    mutate: (s) => {
      root(s).targetUrl = 'http://x.example:1';
    },
  },
  {
    name: 'a sticky cookie sameSite Traefik does not know',
    field: 'domains[0].routes[0].sticky.cookie.sameSite',
    says: /"none", "lax" or "strict".*"sideways"/,
    mutate: (s) => {
      root(s).sticky.cookie.sameSite = 'sideways';
    },
  },
  {
    name: 'a sticky cookie option Traefik 3.0 does not know',
    field: 'domains[0].routes[0].sticky.cookie.path',
    says: /unknown field/,
    mutate: (s) => {
      root(s).sticky.cookie.path = '/';
    },
  },
  {
    name: 'a server URL at the metadata service',
    field: 'domains[0].routes[0].servers[2].url',
    says: /points at .*169\.254\.169\.254.*ALLOWED_INTERNAL_TARGETS/,
    mutate: (s) => {
      root(s).servers[2].url = 'http://169.254.169.254/latest/meta-data/';
    },
  },
  {
    name: 'a server host at loopback (the pod itself)',
    field: 'domains[0].routes[0].servers[0].host',
    says: /points at a loopback address.*127\.0\.0\.1:8080/,
    mutate: (s) => {
      root(s).servers[0].host = '127.0.0.1';
    },
  },
  {
    name: 'passHostHeader that is not a boolean',
    field: 'domains[0].routes[1].passHostHeader',
    says: /true or false/,
    mutate: (s) => {
      s.domains[0].routes[1].passHostHeader = 'no';
    },
  },
];
