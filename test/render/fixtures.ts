/** In-memory desired states for renderer tests (no database). */
import type { Domain, ProjectState, Route } from '../../src/model.js';
import { CERT_PEM, KEY_PEM } from '../helpers/seed.js';

function route(id: string, serviceId: string, r: Partial<Route> = {}): Route {
  return {
    id,
    serviceId,
    pathRule: '/',
    priority: 1,
    middleware: null,
    targetPort: 8080,
    targetUrl: null,
    healthCheck: null,
    isActive: true,
    ...r,
  };
}

function domain(id: string, full: string, d: Partial<Domain> = {}): Domain {
  const [sub, ...rest] = full.split('.');
  return {
    id,
    domain: rest.length > 1 ? rest.join('.') : full,
    subdomain: rest.length > 1 ? sub! : null,
    fullDomain: full,
    sslEnabled: true,
    sslProvider: null,
    isActive: true,
    certificate: null,
    routes: [],
    ...d,
  };
}

/** A project using every feature: ACME, custom cert, plain http, paths, priorities, chains,
 * health checks, an external middleware ref, a Go-template payload that must be escaped. */
export const shop: ProjectState = {
  id: '11111111-1111-4111-8111-111111111111',
  name: 'shop',
  version: 7,
  changedAt: null,
  services: [
    { id: '21111111-1111-4111-8111-111111111111', name: 'api', host: null },
    { id: '22222222-2222-4222-8222-222222222222', name: 'web', host: 'web.internal' },
  ],
  domains: [
    domain('31111111-1111-4111-8111-111111111111', 'shop.example', {
      sslProvider: 'letsencrypt',
      routes: [
        route('41111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'),
        route('42222222-2222-4222-8222-222222222222', '21111111-1111-4111-8111-111111111111', {
          pathRule: '/api',
          targetPort: 3000,
          middleware: [
            { stripPrefix: { prefixes: ['/api'] } },
            { headers: { customRequestHeaders: { 'X-Template': '{{ env "DATABASE_URL" }}' } } },
            { ref: 'auth@kubernetescrd' },
          ],
          healthCheck: { path: '/healthz', interval: '10s' },
        }),
        route('43333333-3333-4333-8333-333333333333', '21111111-1111-4111-8111-111111111111', {
          pathRule: '/api/admin',
          targetPort: 3000,
          priority: 10,
          middleware: [{ ipAllowList: { sourceRange: ['10.0.0.0/8'] } }],
        }),
      ],
    }),
    domain('32222222-2222-4222-8222-222222222222', 'secure.shop.example', {
      sslProvider: 'custom',
      certificate: { id: '51111111-1111-4111-8111-111111111111', certPem: CERT_PEM, keyPem: KEY_PEM, notAfter: null },
      routes: [
        route('44444444-4444-4444-8444-444444444444', '22222222-2222-4222-8222-222222222222', { targetUrl: 'https://web.internal:8443' }),
      ],
    }),
    domain('33333333-3333-4333-8333-333333333333', 'status.shop.example', {
      sslEnabled: false,
      routes: [
        route('45555555-5555-4555-8555-555555555555', '22222222-2222-4222-8222-222222222222', { targetPort: 9000 }),
        route('46666666-6666-4666-8666-666666666666', '22222222-2222-4222-8222-222222222222', { pathRule: '/off', isActive: false }),
      ],
    }),
    domain('34444444-4444-4444-8444-444444444444', 'old.shop.example', {
      isActive: false,
      routes: [route('47777777-7777-4777-8777-777777777777', '22222222-2222-4222-8222-222222222222')],
    }),
  ],
};
