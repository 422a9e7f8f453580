/**
 * Test certificates made with openssl at run time: a CA of its own, and leaf certificates it
 * signs (a backend's server certificate with a DNS name, a client certificate). EC P-256 keys:
 * quick to make. Each call writes into a fresh temp folder and returns the PEM texts and paths.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);

/** A certificate and its key, as text and as files. */
export interface Pair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

async function pair(dir: string, name: string): Promise<Pair> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

/** A self-signed CA named `cn`, able to sign with {@link signed}. */
export async function makeCa(cn: string): Promise<Pair & { dir: string }> {
  const dir = await tempDir('tsync-ca-');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    path.join(dir, 'ca.crt'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { ...(await pair(dir, 'ca')), dir };
}

/** A leaf certificate for `cn` signed by `ca`: a server certificate for DNS `dns`, or a client certificate. */
export async function signed(ca: Pair & { dir: string }, name: string, cn: string, use: { dns: string } | 'client'): Promise<Pair> {
  const dir = ca.dir;
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await run('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    key,
    '-out',
    csr,
  ]);
  await writeFile(
    ext,
    use === 'client'
      ? 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
      : `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${use.dns}\n`,
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    path.join(dir, `${name}.crt`),
  ]);
  return pair(dir, name);
}
