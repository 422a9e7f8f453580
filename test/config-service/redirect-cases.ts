/**
 * Specs for domain redirects (docs/spec-format.md "Domain redirects"): a valid project (www →
 * apex, an old name → the new one over https, temporarily; hosts from the project name) and hostile variants of it, each
 * naming the field its error must point at. Used by redirects.test.ts.
 */
import type { HttpCase, Spec } from './http-cases.js';

/** A valid project with two redirecting domains and the apex serving the routes. */
export function redirectSpec(name = 'moved'): Spec {
  const apex = `${name}.example`;
  return {
    name,
    services: [{ name: 'web', host: `web.${name}.internal` }],
    domains: [
      { domain: apex, subdomain: 'www', provider: 'letsencrypt', redirect: { to: apex } },
      { domain: apex, provider: 'letsencrypt', routes: [{ path: '/', service: 'web', targetPort: 8080 }] },
      { domain: `old-${name}.example`, ssl: false, redirect: { to: apex, scheme: 'https', permanent: false } },
    ],
  };
}

const www = (s: Spec) => s.domains[0];
const wwwHost = (s: Spec) => `www.${s.name}.example`;

export const REDIRECT_HOSTILE: readonly HttpCase[] = [
  {
    name: 'a redirect loop (www → apex → www)',
    field: 'domains[1].redirect.to',
    says: /redirects too.*loop/,
    mutate: (s) => {
      s.domains[1].redirect = { to: wwwHost(s) };
      delete s.domains[1].routes;
    },
  },
  {
    name: 'a chain of redirects (old name → www → apex)',
    field: 'domains[2].redirect.to',
    says: /redirects too.*chain/,
    mutate: (s) => {
      s.domains[2].redirect.to = wwwHost(s);
    },
  },
  {
    name: 'a redirect to the domain itself',
    field: 'domains[0].redirect.to',
    says: /itself/,
    mutate: (s) => {
      www(s).redirect.to = wwwHost(s);
    },
  },
  {
    name: 'a target with a scheme and path',
    field: 'domains[0].redirect.to',
    says: /host name \(no scheme, port or path\).*https:\/\/moved\.example\/x/,
    mutate: (s) => {
      www(s).redirect.to = 'https://moved.example/x';
    },
  },
  {
    name: 'a target breaking out of the replacement',
    field: 'domains[0].redirect.to',
    says: /host name/,
    mutate: (s) => {
      www(s).redirect.to = 'moved.example${1}`) || Host(`x';
    },
  },
  {
    name: 'a scheme other than http or https',
    field: 'domains[0].redirect.scheme',
    says: /"http" or "https".*"ftp"/,
    mutate: (s) => {
      www(s).redirect.scheme = 'ftp';
    },
  },
  {
    name: 'permanent that is not a boolean',
    field: 'domains[0].redirect.permanent',
    says: /true or false/,
    mutate: (s) => {
      www(s).redirect.permanent = 'yes';
    },
  },
  {
    name: 'an unknown redirect option',
    field: 'domains[0].redirect.code',
    says: /unknown field/,
    mutate: (s) => {
      www(s).redirect.code = 301;
    },
  },
  {
    name: 'routes on a redirecting domain',
    field: 'domains[0].routes',
    says: /has no routes/,
    mutate: (s) => {
      www(s).routes = [{ path: '/', service: 'web', targetPort: 8080 }];
    },
  },
];
