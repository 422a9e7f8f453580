/**
 * Import of Traefik's backend transports and TLS options (docs/spec-format.md "import DIR"): a
 * load balancer's `serversTransport` of the file provider becomes the route's `transport`, a
 * router's `tls.options` the domain's `tlsOptions`. CA certificates are kept inline (`ca`); a
 * client certificate is referenced by its files (`certFile`/`keyFile`, read at apply like any
 * spec's). What traefik-sync cannot express is reported, never dropped silently.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceTree } from './import-read.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A mapped value and what was left out of it; or why nothing can be mapped. */
export type Mapped = { value: Obj; notes: string[] } | { error: string };

/** A name that refers to an object of the file provider: its local name, or null for another provider's. */
function local(ref: string): string | null {
  if (!ref.includes('@')) return ref;
  return ref.endsWith('@file') ? ref.slice(0, -'@file'.length) : null;
}

/**
 * Traefik's FileOrContent: PEM text as is, else a file (absolute, or relative to the imported
 * directory). Null with a reason when it can be neither.
 */
function pemOf(v: unknown, dir: string): { pem: string } | { error: string } {
  if (typeof v !== 'string' || !v) return { error: `expected a file or PEM text, got ${JSON.stringify(v)}` };
  if (v.includes('-----BEGIN')) return { pem: v };
  try {
    return { pem: readFileSync(path.resolve(dir, v), 'utf8') };
  } catch (err) {
    return { error: `cannot read ${JSON.stringify(v)} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** Several CA entries as one PEM text (the spec's `ca` holds one or more certificates). */
function caOf(list: unknown, dir: string, what: string): { pem: string } | { error: string } {
  if (!Array.isArray(list) || !list.length) return { error: `${what}: expected a list of files` };
  const texts: string[] = [];
  for (const entry of list) {
    const p = pemOf(entry, dir);
    if ('error' in p) return { error: `${what}: ${p.error}` };
    texts.push(p.pem.trim());
  }
  return { pem: `${texts.join('\n')}\n` };
}

/** The route `transport` of serversTransport `ref` (`dir`: the imported directory, for relative files). */
export function importTransport(ref: unknown, tree: SourceTree, dir: string): Mapped {
  const name = typeof ref === 'string' ? local(ref) : null;
  if (name === null) return { error: `serversTransport ${JSON.stringify(ref)} belongs to another provider` };
  const t = tree.transports?.get(name);
  if (!t) return { error: `serversTransport ${JSON.stringify(name)} is not defined in the imported files` };
  const value: Obj = {};
  const notes: string[] = [];
  for (const [k, v] of Object.entries(t.value)) {
    if (k === 'serverName' || k === 'insecureSkipVerify') value[k] = v;
    else if (k === 'rootCAs') {
      const ca = caOf(v, dir, `serversTransport ${name}: rootCAs`);
      if ('error' in ca) return ca;
      value.ca = ca.pem;
    } else if (k === 'certificates') {
      const certs = Array.isArray(v) ? v : [];
      const c = certs[0];
      if (
        certs.length !== 1 ||
        !isObj(c) ||
        typeof c.certFile !== 'string' ||
        typeof c.keyFile !== 'string' ||
        c.keyFile.includes('-----BEGIN')
      )
        return { error: `serversTransport ${name}: certificates: only one client certificate given by its files can be imported` };
      value.clientCertificate = { certFile: path.resolve(dir, c.certFile), keyFile: path.resolve(dir, c.keyFile) };
    } else notes.push(`serversTransport ${name}: ${k} ignored (not supported)`);
  }
  return { value, notes };
}

const TLS_OPTION_KEYS = ['minVersion', 'maxVersion', 'cipherSuites', 'sniStrict'];

/** The domain `tlsOptions` of TLS option `ref` (a router's `tls.options`). */
export function importTlsOptions(ref: unknown, tree: SourceTree, dir: string): Mapped {
  const name = typeof ref === 'string' ? local(ref) : null;
  if (name === null) return { error: `TLS options ${JSON.stringify(ref)} belong to another provider` };
  const o = tree.tlsOptions?.get(name);
  if (!o) return { error: `TLS options ${JSON.stringify(name)} are not defined in the imported files` };
  const value: Obj = {};
  const notes: string[] = [];
  for (const [k, v] of Object.entries(o.value)) {
    if (TLS_OPTION_KEYS.includes(k)) value[k] = v;
    else if (k === 'clientAuth' && isObj(v)) {
      const auth: Obj = {};
      if (v.caFiles !== undefined) {
        const ca = caOf(v.caFiles, dir, `TLS options ${name}: clientAuth.caFiles`);
        if ('error' in ca) return ca;
        auth.ca = ca.pem;
      }
      // Traefik's default with CA files is RequireAndVerifyClientCert, without them NoClientCert.
      auth.mode = v.clientAuthType ?? (auth.ca ? 'RequireAndVerifyClientCert' : 'NoClientCert');
      value.clientAuth = auth;
    } else notes.push(`TLS options ${name}: ${k} ignored (not supported)`);
  }
  return { value, notes };
}
