/**
 * Secret scrubbing for anything that leaves the process as text (logs, errors, status).
 * Passwords in connection strings and PEM private keys are replaced by placeholders.
 */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi;
const KEY_PARAM = /\b(password|passwd|pwd)=([^&\s]+)/gi;
const PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;

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
    .replace(PRIVATE_KEY, '-----BEGIN $1PRIVATE KEY-----\n*** private key redacted ***\n-----END $1PRIVATE KEY-----');
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
