/**
 * Specs for weighted splits and failover (docs/spec-format.md "Splits and failover"): a valid
 * base project using them, and hostile variants of it, each naming the field its error must
 * point at. Used by routing.test.ts.
 */
import type { HttpCase, Spec } from './http-cases.js';

/** A valid project with a 90/10 split and a route that fails over (hosts are external). */
export function baseRouting(): Spec {
  return {
    name: 'routing',
    services: [
      { name: 'web', host: 'web.routing.internal' },
      { name: 'web-canary', host: 'canary.routing.internal' },
      { name: 'backup', host: 'backup.routing.internal' },
    ],
    domains: [
      {
        domain: 'routing.example.org',
        ssl: false,
        routes: [
          {
            path: '/',
            service: 'web',
            targetPort: 8080,
            split: [
              { service: 'web', weight: 90 },
              { service: 'web-canary', port: 8081, weight: 10 },
            ],
          },
          {
            path: '/api',
            service: 'web',
            targetPort: 9000,
            healthCheck: { path: '/healthz', interval: '5s' },
            failover: { service: 'backup', port: 9001 },
          },
        ],
      },
    ],
  };
}

const split = (s: Spec) => s.domains[0].routes[0];
const failing = (s: Spec) => s.domains[0].routes[1];

/** Hostile variants of {@link baseRouting}. */
export const ROUTING_HOSTILE: readonly HttpCase[] = [
  {
    name: 'a split weight of -1',
    field: 'domains[0].routes[0].split[1].weight',
    says: /0–1000000.*got -1/,
    mutate: (s) => {
      split(s).split[1].weight = -1;
    },
  },
  {
    name: 'a split naming a service that does not exist',
    field: 'domains[0].routes[0].split[1].service',
    says: /no service named "ghost"/,
    mutate: (s) => {
      split(s).split[1].service = 'ghost';
    },
  },
  {
    name: 'a split service name breaking out of its quoting',
    field: 'domains[0].routes[0].split[0].service',
    says: /expected the name of a service/,
    mutate: (s) => {
      split(s).split[0].service = 'web`) || Host(`x';
    },
  },
  {
    name: 'a split of one branch',
    field: 'domains[0].routes[0].split',
    says: /2–16 branches/,
    mutate: (s) => {
      split(s).split.pop();
    },
  },
  {
    name: 'every branch of weight 0',
    field: 'domains[0].routes[0].split',
    says: /weight 0/,
    mutate: (s) => {
      for (const b of split(s).split) b.weight = 0;
    },
  },
  {
    name: 'a split together with servers',
    field: 'domains[0].routes[0].servers',
    says: /cannot be combined with split/,
    mutate: (s) => {
      split(s).servers = [{ host: 'web-0.routing.internal' }];
    },
  },
  {
    name: 'a fallback service that does not exist',
    field: 'domains[0].routes[1].failover.service',
    says: /no service named "nowhere"/,
    mutate: (s) => {
      failing(s).failover.service = 'nowhere';
    },
  },
  {
    name: 'failover without a health check',
    field: 'domains[0].routes[1].failover',
    says: /needs a healthCheck/,
    mutate: (s) => {
      delete failing(s).healthCheck;
    },
  },
  {
    name: 'a fallback port of 0',
    field: 'domains[0].routes[1].failover.port',
    says: /1–65535, got 0/,
    mutate: (s) => {
      failing(s).failover.port = 0;
    },
  },
];

/** A valid project with exact, regex, header and method routes on one domain. */
export function baseMatching(): Spec {
  return {
    name: 'matching',
    services: [{ name: 'web', host: 'web.matching.internal' }],
    domains: [
      {
        domain: 'matching.example.org',
        ssl: false,
        routes: [
          { path: '/api', service: 'web', targetPort: 8080 },
          { path: '/api', match: 'exact', service: 'web', targetPort: 8081 },
          { path: '^/api/v[0-9]+/users$', match: 'regex', service: 'web', targetPort: 8082 },
          { path: '/api', headers: { 'X-Canary': '1' }, service: 'web', targetPort: 8083 },
          { path: '/api', methods: ['POST', 'PUT'], service: 'web', targetPort: 8084 },
        ],
      },
    ],
  };
}

const route = (s: Spec, i: number) => s.domains[0].routes[i];

/** Hostile variants of {@link baseMatching}. */
export const MATCHING_HOSTILE: readonly HttpCase[] = [
  {
    name: 'a regex with lookahead (Go has none)',
    field: 'domains[0].routes[2].path',
    says: /does not compile in Go.*lookahead/,
    mutate: (s) => {
      route(s, 2).path = '^/api/(?=v1)';
    },
  },
  {
    name: 'a regex with a backreference',
    field: 'domains[0].routes[2].path',
    says: /does not compile in Go.*backreferences/,
    mutate: (s) => {
      route(s, 2).path = '^/(a+)/\\1$';
    },
  },
  {
    name: 'a regex that does not parse',
    field: 'domains[0].routes[2].path',
    says: /does not compile in Go/,
    mutate: (s) => {
      route(s, 2).path = '^/api/[v';
    },
  },
  {
    name: 'a regex breaking out of its quoting',
    field: 'domains[0].routes[2].path',
    says: /without backticks/,
    mutate: (s) => {
      route(s, 2).path = '^/x`) || Host(`evil.example';
    },
  },
  {
    name: 'an exact path breaking out of its quoting',
    field: 'domains[0].routes[1].path',
    says: /backtick/,
    mutate: (s) => {
      route(s, 1).path = '/api`) || Host(`evil.example';
    },
  },
  {
    name: 'a header value breaking out of its quoting',
    field: 'domains[0].routes[3].headers.X-Canary',
    says: /without backticks/,
    mutate: (s) => {
      route(s, 3).headers['X-Canary'] = '1`) || Host(`evil.example';
    },
  },
  {
    name: 'a header name breaking out of its quoting',
    field: 'domains[0].routes[3].headers',
    says: /HTTP tokens/,
    mutate: (s) => {
      route(s, 3).headers = { 'X`, `1`) || Host(`evil': '1' };
    },
  },
  {
    name: 'a Host header condition',
    field: 'domains[0].routes[3].headers.host',
    says: /domain's/,
    mutate: (s) => {
      route(s, 3).headers = { host: 'evil.example' };
    },
  },
  {
    name: 'a method Traefik does not know',
    field: 'domains[0].routes[4].methods[1]',
    says: /one of GET.*"FETCH"/,
    mutate: (s) => {
      route(s, 4).methods[1] = 'FETCH';
    },
  },
  {
    name: 'a match type that does not exist',
    field: 'domains[0].routes[1].match',
    says: /"prefix", "exact" or "regex"/,
    mutate: (s) => {
      route(s, 1).match = 'glob';
    },
  },
  {
    name: 'two routes with the same rule (header names differ only in case)',
    field: 'domains[0].routes[5].path',
    says: /listed twice/,
    mutate: (s) => {
      s.domains[0].routes.push({ path: '/api', headers: { 'x-canary': '1' }, service: 'web', targetPort: 9000 });
    },
  },
];
