/**
 * Specs for shared middlewares (docs/spec-format.md "Shared middlewares"): a valid project (one
 * forwardAuth used by two routes, directly and through a chain; an errors page; headers) and
 * hostile variants of it, each naming the field its error must point at. Used by
 * shared-middlewares.test.ts.
 */
import type { HttpCase, Spec } from './http-cases.js';

/** A valid project using shared middlewares (hosts from the project name; nothing is loopback). */
export function sharedSpec(name = 'team'): Spec {
  return {
    name,
    services: [
      { name: 'app', host: `app.${name}.internal` },
      { name: 'pages', host: `pages.${name}.internal` },
    ],
    middlewares: [
      { name: 'sso', forwardAuth: { address: `https://auth.${name}.example/verify`, authResponseHeaders: ['X-User'] } },
      { name: 'oops', errors: { status: ['500-599', '404'], service: 'pages', port: 8080, query: '/{status}.html' } },
      { name: 'secure', headers: { frameDeny: true } },
      { name: 'protected', chain: { middlewares: ['sso', 'secure'] } },
    ],
    domains: [
      {
        domain: `${name}.example`,
        provider: 'letsencrypt',
        routes: [
          { path: '/', service: 'app', targetPort: 8080, middleware: [{ use: 'protected' }, { use: 'oops' }] },
          { path: '/admin', service: 'app', targetPort: 8081, middleware: [{ use: 'sso' }, { stripPrefix: { prefixes: ['/admin'] } }] },
        ],
      },
    ],
  };
}

const mw = (s: Spec, i: number) => s.middlewares[i];

export const SHARED_HOSTILE: readonly HttpCase[] = [
  {
    name: 'a route using a middleware that does not exist',
    field: 'domains[0].routes[1].middleware[0].use',
    says: /no middleware named "nope".*have: oops, protected, secure, sso/,
    mutate: (s) => {
      s.domains[0].routes[1].middleware[0] = { use: 'nope' };
    },
  },
  {
    name: 'a chain naming a middleware that does not exist',
    field: 'middlewares[3].chain.middlewares[1]',
    says: /no middleware named "missing"/,
    mutate: (s) => {
      mw(s, 3).chain.middlewares[1] = 'missing';
    },
  },
  {
    name: 'chains that reach themselves',
    field: 'middlewares[3].chain.middlewares',
    says: /cycle/,
    mutate: (s) => {
      mw(s, 3).chain.middlewares = ['sso', 'loop'];
      s.middlewares.push({ name: 'loop', chain: { middlewares: ['protected'] } });
    },
  },
  {
    name: 'an error page service of no such service',
    field: 'middlewares[1].errors.service',
    says: /service of this project.*"elsewhere"/,
    mutate: (s) => {
      mw(s, 1).errors.service = 'elsewhere';
    },
  },
  {
    name: 'an error status that is not one',
    field: 'middlewares[1].errors.status[0]',
    says: /100–599.*"600"/,
    mutate: (s) => {
      mw(s, 1).errors.status[0] = '600';
    },
  },
  {
    name: 'an error page query that is not a path',
    field: 'middlewares[1].errors.query',
    says: /path like/,
    mutate: (s) => {
      mw(s, 1).errors.query = 'x.html`';
    },
  },
  {
    name: 'two middleware types in one',
    field: 'middlewares[2]',
    says: /exactly one middleware type/,
    mutate: (s) => {
      mw(s, 2).compress = {};
    },
  },
  {
    name: 'a shared forwardAuth at the metadata service',
    field: 'middlewares[0].forwardAuth.address',
    says: /points at .*169\.254\.169\.254/,
    mutate: (s) => {
      mw(s, 0).forwardAuth.address = 'http://169.254.169.254/latest';
    },
  },
  {
    name: 'a name listed twice',
    field: 'middlewares[2].name',
    says: /listed twice/,
    mutate: (s) => {
      mw(s, 2).name = 'sso';
    },
  },
  {
    name: 'a name that is not a DNS label',
    field: 'middlewares[0].name',
    says: /./,
    mutate: (s) => {
      mw(s, 0).name = 'SSO';
    },
  },
];
