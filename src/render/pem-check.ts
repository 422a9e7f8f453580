/**
 * PEM certificates given as CAs or client certificates (backend transports, TLS options): the
 * text holds one or more CERTIFICATE blocks that parse as X.509, and nothing else that matters —
 * never a private key (these files are world-readable). Pure: node:crypto parses, nothing is read.
 */
import { X509Certificate } from 'node:crypto';
import { containsPrivateKey } from '../redact.js';

/** At most this many bytes of PEM per certificate field (as sql/014_backend_transports.sql). */
export const MAX_PEM_BYTES = 65_536;

/** The CERTIFICATE blocks of a PEM text. */
export function certificateBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The problem with `v` as PEM certificate text, or null. Messages never quote the value (a key
 * pasted by mistake must not reach a log).
 */
export function certificatePemProblem(v: unknown): string | null {
  if (typeof v !== 'string') return `expected PEM certificate text, got ${v === null ? 'null' : typeof v}`;
  if (Buffer.byteLength(v) > MAX_PEM_BYTES) return `is larger than ${MAX_PEM_BYTES} bytes`;
  if (containsPrivateKey(v)) return 'holds a private key block; give only certificates here (the file is world-readable)';
  if (!/^\s*-----BEGIN CERTIFICATE-----/.test(v) || v.includes('{{') || v.includes('}}'))
    return 'expected a PEM certificate ("-----BEGIN CERTIFICATE-----")';
  const blocks = certificateBlocks(v);
  if (!blocks.length) return 'expected a PEM certificate ("-----BEGIN CERTIFICATE-----")';
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch (err) {
      return `certificate ${i + 1} does not parse as an X.509 certificate (${(err as Error).message})`;
    }
  }
  return null;
}
