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
