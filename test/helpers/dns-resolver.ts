/**
 * Static settings whose TRAEFIK_STATIC_FILE defines a DNS-01 resolver `dns` and an HTTP-01
 * resolver `le`, for tests of wildcard domains (docs/spec-format.md "Wildcard domains and DNS-01").
 */
import { DEFAULT_STATIC_SETTINGS, type StaticSettings } from '../../src/render/static-settings.js';

/** The overlay file's name in messages. */
export const DNS_OVERLAY_FILE = '/etc/traefik-sync/static.yml';

/** Settings with `dns` (DNS-01, cloudflare) and `le` (HTTP-01) defined by the overlay. */
export const DNS_SETTINGS: StaticSettings = {
  ...DEFAULT_STATIC_SETTINGS,
  overlay: {
    file: DNS_OVERLAY_FILE,
    doc: {
      certificatesResolvers: {
        dns: { acme: { email: 'ops@example.com', dnsChallenge: { provider: 'cloudflare' } } },
        le: { acme: { email: 'ops@example.com', httpChallenge: { entryPoint: 'web' } } },
      },
    },
  },
};
