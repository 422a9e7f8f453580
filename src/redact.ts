/**
 * The one place that knows what a secret looks like, for everything that leaves the process as
 * text: logs, errors, status, database records of errors, Kubernetes Events ({@link redact}), file
 * content and diffs shown by the file API and `diff` ({@link maskSecrets}), and messages that
 * quote a value from an input ({@link redactValues} with {@link secretValues}).
 *
 * Secrets: the database password (and any value registered), PEM private keys, URL userinfo
 * passwords, credential-like query parameters, `Authorization`-style credentials, password
 * hashes (htpasswd, digest), the values of credential-like keys and headers (Authorization,
 * Cookie, X-Api-Key, *token*, *secret*, *password*, …) and basicAuth/digestAuth `users`.
 */
// Every pattern here starts only where a token starts (a lookbehind) and has no two ways to match
// the same text, so a pass over a file is linear in its size (test/redact.test.ts checks 1 MiB
// inputs built to make backtracking regexes quadratic).
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"'`]*:)([^@\s"'`/]*)@/gi;
const SECRET_PARAM =
  /(?<![a-z0-9_-])((?:[a-z_-]*token|api[-_]?key|apikey|[a-z_-]*secret|password|passwd|pwd|sig|signature)=)([^&\s"'`]+)/gi;
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END \1PRIVATE KEY( BLOCK)?-----|$)/gi;
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Digest|Negotiate|NTLM|ApiKey)\s+[^\s"'`,;]{4,}/g;
/** htpasswd/crypt hashes ($apr1$, $2y$, $5$, $6$, {SHA}) and digest `user:realm:md5` entries. */
const PASSWORD_HASH = /(\$(?:apr1|1|2[abxy]?|5|6|7|y|gy)\$[^\s"'`,\]]+|\{SHA\}[A-Za-z0-9+/=]+)/g;
const DIGEST_USER = /(?<![^\s"'`,[\]{}])([^\s:"'`,[\]{}]+:[^\s:"'`,[\]{}]+:)[0-9a-f]{32}(?![0-9a-f])/g;

/**
 * The armour that opens a PEM private key in any flavour: PKCS#8, RSA/EC/DSA, ENCRYPTED, OPENSSH,
 * PGP, in any case (sql/005_private_keys.sql's traefik_sync_has_private_key says the same).
 */
const PRIVATE_KEY_ARMOUR = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY/i;

/** True when `text` holds (the start of) a PEM private key. */
export function containsPrivateKey(text: string | Buffer): boolean {
  return PRIVATE_KEY_ARMOUR.test(typeof text === 'string' ? text : text.toString('latin1'));
}

/** Keys (and header names) whose values are credentials. */
const SECRET_KEY =
  /authorization|^(set-)?cookie$|token|secret|passw(or)?d|^pwd$|passphrase|credential|signature|api[-_]?key|(^|[-_])(auth|access|private|client|app|license|master|session|subscription)[-_]?key$|^x-[a-z0-9-]*-key$/i;

/** True for a key or header name whose value is a credential (`Authorization`, `X-Api-Key`, `password`, …). */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

const known = new Set<string>();

/** Register a secret value (e.g. the database password) so redact() removes it wherever it appears. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) known.add(value);
}

/** The patterns every text goes through: URL passwords, credentials, hashes, private keys. */
function scrub(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1***@')
    .replace(SECRET_PARAM, '$1***')
    .replace(AUTH_SCHEME, '$1 ***')
    .replace(PASSWORD_HASH, '***')
    .replace(DIGEST_USER, '$1***')
    .replace(PRIVATE_KEY, '-----BEGIN $1PRIVATE KEY$2-----\n*** private key redacted ***\n-----END $1PRIVATE KEY$2-----');
}

/** Remove every secret this module knows of from `text` (a log line, an error, a status field). */
export function redact(text: string): string {
  return redactValues(scrub(text), known);
}

/** Registered secrets long enough to be searched for inside field values (paths, names). */
const longKnown = () => [...known].filter((k) => k.length >= 8);

/**
 * {@link redact} on every string inside a JSON-like value (status answers, log fields). Errors
 * and dates are kept as they are (the logger's error serializer redacts an error's message).
 * Registered secrets shorter than 8 characters are left to the patterns here: as a field's whole
 * value they would turn paths and names that merely contain them (the demo's password is "demo")
 * into nonsense.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactValues(scrub(value), longKnown()) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Error) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
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

/** `alice:$apr1$…` → the part after the user name (the whole entry when there is no ":"). */
function userSecret(entry: string): string {
  const i = entry.indexOf(':');
  return i < 0 ? entry : entry.slice(i + 1);
}

/**
 * The secret strings inside an input (a middleware chain, a health check, a spec): values of
 * credential-like keys, the hash part of `users` entries, URL userinfo passwords. For
 * {@link redactValues}, so that a message quoting the input does not quote a secret.
 */
export function secretValues(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    const out = isSecretKey(key) ? [value] : [];
    for (const m of value.matchAll(URL_PASSWORD)) out.push(m[2]!);
    for (const m of value.matchAll(SECRET_PARAM)) out.push(m[2]!);
    return out;
  }
  if (Array.isArray(value)) {
    if (key === 'users') return value.flatMap((v) => (typeof v === 'string' ? [v, userSecret(v)] : secretValues(v)));
    return value.flatMap((v) => secretValues(v, key));
  }
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => secretValues(v, k));
  return [];
}

/**
 * `text` with every value of `secrets` (at least 4 characters) replaced by `***`: as is, as JSON
 * escapes it (messages quote values as JSON), and cut short before a "…" (quoted values are
 * shortened).
 */
export function redactValues(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join('***');
      for (let at = out.indexOf('…'); at >= 0; at = out.indexOf('…', at + 1)) {
        for (let n = Math.min(form.length - 1, at); n >= 4; n--) {
          if (out.slice(at - n, at) === form.slice(0, n)) {
            out = `${out.slice(0, at - n)}***${out.slice(at)}`;
            at -= n - 3;
            break;
          }
        }
      }
    }
  }
  return out;
}

/** A key-value line: YAML `key: v`, `- key: v`, TOML `key = v`, JSON `"key": v,`. */
const PAIR = /^(\s{0,200}(?:-\s{1,200})?)(["']?)([^\s"':=#{}[\],][^"':=#{}[\],]{0,127}?)\2(\s{0,64}(?::(?=\s|$)|=)\s{0,64})/;
/** A quoted or plain flow pair inside `{…}` or a JSON line. */
const INLINE_PAIR = /(?<![A-Za-z0-9_.\-"'])(["']?)([A-Za-z0-9_.-]+)\1(\s*:\s*)("(?:\\.|[^"\\])*"|'(?:''|[^'])*'|[^,{}[\]\s][^,}\]]*)/g;
const USERS_KEY = /(?<![A-Za-z0-9_-])(["']?)users\1\s*[:=]\s*\[/g;

/** `line` with the entries of every flow `users: [...]` list masked; `count` is told each list masked. */
function maskInlineUsers(line: string, count: () => void): string {
  let out = '';
  let from = 0;
  USERS_KEY.lastIndex = 0;
  for (let m = USERS_KEY.exec(line); m; m = USERS_KEY.exec(line)) {
    const open = m.index + m[0].length;
    const close = line.indexOf(']', open);
    if (close < 0) break; // no list ends on this line: nothing further to find either
    out += line.slice(from, open) + line.slice(open, close).split(',').map(maskUser).join(',');
    from = close;
    USERS_KEY.lastIndex = close;
    count();
  }
  return out + line.slice(from);
}

/** A scalar with its quotes (and a JSON line's trailing comma) kept, the rest replaced. */
function maskScalar(raw: string): string {
  const body = raw.trimEnd();
  const comma = body.endsWith(',');
  const inner = comma ? body.slice(0, -1).trimEnd() : body;
  const q = inner[0];
  const quoted = (q === '"' || q === "'") && inner.length >= 2 && inner.endsWith(q);
  return `${quoted ? `${q}***${q}` : '***'}${comma ? ',' : ''}`;
}

/** A `users` list element (`- "alice:hash"`, `"alice:hash"`): the user name kept, the rest masked. */
function maskUser(raw: string): string {
  const m = /^(\s*)(["']?)(.*?)\2(\s*)$/.exec(raw)!;
  const entry = m[3]!;
  const i = entry.indexOf(':');
  return `${m[1]}${m[2]}${i < 0 ? '***' : `${entry.slice(0, i + 1)}***`}${m[2]}${m[4]}`;
}

/**
 * File content (YAML, TOML or JSON as Traefik reads it, generated or not) with every secret value
 * masked as `***`, line by line so that line numbers and everything else stay as they are; and
 * how many values were masked. Values of credential-like keys, block scalars under them, `users`
 * lists (block or flow), URL passwords, secret query parameters, credentials, hashes and keys.
 */
export function maskSecrets(text: string): { text: string; masked: number } {
  let masked = 0;
  let block: { indent: number; kind: 'secret' | 'users' } | null = null;
  const lines = text.split('\n').map((line) => {
    const indent = /^ */.exec(line)![0].length;
    if (block && (line.trim() === '' || indent > block.indent)) {
      if (line.trim() === '') return line;
      masked++;
      if (block.kind === 'secret') return `${' '.repeat(indent)}***`;
      const item = /^(\s*-\s+)(.*)$/.exec(line);
      return item ? `${item[1]}${maskUser(item[2]!)}` : line;
    }
    block = null;
    let out = line;
    // The key sits near the start of its line: only that much is searched for it.
    const pair = PAIR.exec(line.slice(0, 512));
    const value = pair ? line.slice(pair[0].length) : '';
    if (pair && !value.startsWith('#')) {
      const [, lead, q, key, sep] = pair as unknown as [string, string, string, string, string];
      const name = key.trim();
      if (name === 'users' && value === '') block = { indent: lead.length, kind: 'users' };
      else if (isSecretKey(name) && /^[|>]/.test(value)) {
        block = { indent: lead.length, kind: 'secret' };
      } else if (isSecretKey(name) && value !== '' && !value.startsWith('{') && !value.startsWith('[')) {
        out = `${lead}${q}${key}${q}${sep}${maskScalar(value)}`;
        masked++;
      }
    }
    out = maskInlineUsers(out, () => masked++);
    if (/[{,]/.test(out)) {
      out = out.replace(INLINE_PAIR, (m, q: string, key: string, sep: string, value: string) => {
        if (!isSecretKey(key) || value === '***' || /^["']\*\*\*["']$/.test(value)) return m;
        masked++;
        return `${q}${key}${q}${sep}${maskScalar(value)}`;
      });
    }
    const scrubbed = scrub(out);
    if (scrubbed !== out) masked++;
    return scrubbed;
  });
  return { text: lines.join('\n'), masked };
}
