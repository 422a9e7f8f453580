/**
 * The TLS fields of the service API (docs/spec-format.md "Backend transport", "TLS options"):
 * a route's `transport` with its client certificate as PEM text (`{certPem, keyPem}`, like a
 * domain's certificate), a domain's `tlsOptions` and `defaultCertificate`. Checked by the
 * renderer's rules; the client key is checked against its certificate and never echoed.
 */
import { z } from 'zod';
import type { BackendTransport, TlsOptions } from '../model.js';
import { tlsOptionsProblems } from '../render/tls-options.js';
import { transportProblems } from '../render/transport.js';
import { rendererChecked } from './fields-http.js';
import { checkCertificate } from './pem.js';
import type { RouteRow } from './rows.js';

/** A domain's TLS options in the API (the stored shape: CAs as PEM text). */
export const tlsOptionsField = rendererChecked(tlsOptionsProblems);

/** A route's transport in the API: `{serverName, insecureSkipVerify, ca, clientCertificate: {certPem, keyPem}}`. */
export const transportField = z
  .strictObject({
    serverName: z.unknown().optional(),
    insecureSkipVerify: z.unknown().optional(),
    ca: z.unknown().optional(),
    clientCertificate: z.strictObject({ certPem: z.string(), keyPem: z.string() }).optional(),
  })
  .superRefine((t, ctx) => {
    const { clientCertificate, ...rest } = t;
    for (const p of transportProblems(rest, '')) {
      const m = /^\.([A-Za-z]+): ([\s\S]*)$/.exec(p);
      ctx.addIssue({ code: 'custom', message: m ? m[2]! : p, path: m ? [m[1]!] : [] });
    }
    if (clientCertificate) {
      for (const p of checkCertificate(clientCertificate.certPem, clientCertificate.keyPem, null).problems)
        ctx.addIssue({ code: 'custom', message: p.message, path: ['clientCertificate', p.field] });
    }
  });

/** The `transport` and `key_pem` columns of an API input: the field given (null: none), else `base`'s. */
export function apiTransportColumns(
  v: z.infer<typeof transportField> | null | undefined,
  base: Pick<RouteRow, 'transport' | 'key_pem'>,
): Pick<RouteRow, 'transport' | 'key_pem'> {
  if (v === undefined) return { transport: base.transport ?? null, key_pem: base.key_pem ?? null };
  if (v === null) return { transport: null, key_pem: null };
  const { clientCertificate, ...rest } = v;
  const transport = { ...rest, ...(clientCertificate ? { clientCert: clientCertificate.certPem } : {}) } as BackendTransport;
  return { transport, key_pem: clientCertificate?.keyPem ?? null };
}

/** A domain's `tls_options` and `default_certificate` from an API input: the fields given, else `base`'s. */
export function domainTlsColumns(
  v: { tlsOptions?: unknown; defaultCertificate?: boolean },
  base: { tls_options?: TlsOptions | null; default_certificate?: boolean },
): { tls_options: TlsOptions | null; default_certificate: boolean } {
  return {
    tls_options: v.tlsOptions === undefined ? (base.tls_options ?? null) : ((v.tlsOptions ?? null) as TlsOptions | null),
    default_certificate: v.defaultCertificate ?? base.default_certificate ?? false,
  };
}
