/**
 * Custom certificates: the certificate parses, covers its domain, matches its key; its expiry and
 * fingerprint. Messages never include key material.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { containsPrivateKey } from '../redact.js';
import { LIMITS } from './fields.js';

/** What a certificate/key pair says about itself. */
export interface CertificateFacts {
  /** Problems, by field (`certPem` or `keyPem`). */
  readonly problems: Array<{ field: 'certPem' | 'keyPem'; message: string }>;
  readonly notAfter: Date | null;
  readonly fingerprint: string | null;
}

/** `sha256:<hex>` of the certificate's DER (as `openssl x509 -fingerprint -sha256`, without colons), or null. */
export function fingerprintOf(certPem: string): string | null {
  try {
    return `sha256:${new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase()}`;
  } catch {
    return null;
  }
}

/**
 * Whether `cert` is valid for `host`. A wildcard host (`*.example.com`) needs the same wildcard
 * among the certificate's DNS names (or as its common name when it has none): a certificate for
 * one name below it does not serve the others.
 */
function covers(cert: X509Certificate, host: string): boolean {
  if (!host.startsWith('*.')) return cert.checkHost(host) !== undefined;
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).toLowerCase());
  if (names.length) return names.includes(host);
  return /(?:^|\n)CN=(.*)$/m.exec(cert.subject)?.[1]?.toLowerCase() === host;
}

/**
 * Check a certificate and key for `fullDomain`: both PEM, within size, parseable, the key
 * belongs to the certificate, the certificate names the domain.
 */
export function checkCertificate(certPem: string, keyPem: string, fullDomain: string | null): CertificateFacts {
  const problems: CertificateFacts['problems'] = [];
  let cert: X509Certificate | null = null;
  let key: KeyObject | null = null;
  if (Buffer.byteLength(certPem) > LIMITS.pemBytes) problems.push({ field: 'certPem', message: `is larger than ${LIMITS.pemBytes} bytes` });
  else if (!/^\s*-----BEGIN CERTIFICATE-----/.test(certPem))
    problems.push({ field: 'certPem', message: 'expected a PEM certificate ("-----BEGIN CERTIFICATE-----")' });
  else if (containsPrivateKey(certPem))
    // The .crt file is world-readable (0644) and cert_pem is copied to the audit log: keys go in keyPem only.
    problems.push({ field: 'certPem', message: 'holds a private key block; give only the certificate (chain) here and the key in keyPem' });
  else {
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      problems.push({ field: 'certPem', message: `does not parse as an X.509 certificate (${(err as Error).message})` });
    }
  }
  if (Buffer.byteLength(keyPem) > LIMITS.pemBytes) problems.push({ field: 'keyPem', message: `is larger than ${LIMITS.pemBytes} bytes` });
  else if (!/^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem))
    problems.push({ field: 'keyPem', message: 'expected a PEM private key ("-----BEGIN ... PRIVATE KEY-----")' });
  else {
    try {
      key = createPrivateKey(keyPem);
    } catch {
      problems.push({ field: 'keyPem', message: 'does not parse as a private key (encrypted keys are not supported)' });
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) problems.push({ field: 'keyPem', message: 'does not belong to the certificate' });
  if (cert && fullDomain && !covers(cert, fullDomain)) {
    problems.push({
      field: 'certPem',
      message: `does not cover ${JSON.stringify(fullDomain)} (subject ${JSON.stringify(cert.subject.replace(/\n/g, ', '))})`,
    });
  }
  const notAfter = cert ? new Date(cert.validTo) : null;
  return {
    problems,
    notAfter: notAfter && !Number.isNaN(notAfter.getTime()) ? notAfter : null,
    fingerprint: cert ? `sha256:${cert.fingerprint256.replace(/:/g, '').toLowerCase()}` : null,
  };
}
