/**
 * Secret scrubbing for anything that leaves the process as text (logs, errors, status).
 * Passwords in connection strings and PEM private keys are replaced by placeholders.
 */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi;
const KEY_PARAM = /\b(password|passwd|pwd)=([^&\s]+)/gi;
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END \1PRIVATE KEY( BLOCK)?-----|$)/gi;

/**
 * The armour that opens a PEM private key in any flavour: PKCS#8, RSA/EC/DSA, ENCRYPTED, OPENSSH,
 * PGP, in any case (sql/005_private_keys.sql's traefik_sync_has_private_key says the same).
 */
const PRIVATE_KEY_ARMOUR = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY/i;

/** True when `text` holds (the start of) a PEM private key. */
export function containsPrivateKey(text: string | Buffer): boolean {
  return PRIVATE_KEY_ARMOUR.test(typeof text === 'string' ? text : text.toString('latin1'));
}

const known = new Set<string>();

/** Register a secret value (e.g. the database password) so redact() removes it wherever it appears. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) known.add(value);
}

/** Remove every secret this module knows of from `text`. */
export function redact(text: string): string {
  let out = text
    .replace(URL_PASSWORD, '$1***@')
    .replace(KEY_PARAM, '$1=***')
    .replace(PRIVATE_KEY, '-----BEGIN $1PRIVATE KEY$2-----\n*** private key redacted ***\n-----END $1PRIVATE KEY$2-----');
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** The password inside a postgres:// URL, if any (to register it as a secret). */
export function passwordOf(databaseUrl: string): string | undefined {
  try {
    const url = new URL(databaseUrl);
    return url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    return undefined;
  }
}
