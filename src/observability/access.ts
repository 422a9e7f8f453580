/**
 * Who may use the file API and the operator page (docs/contract.md §9): a wrapper around their
 * routes (`/api/…`, `/` and `/ui/…`); `/metrics`, `/healthz` and `/readyz` stay open.
 *
 * - With a token (API_TOKEN_FILE): every client shows it, as `Authorization: Bearer <token>`, or
 *   with the cookie the page sets: opening `/?token=<token>` once answers with an HttpOnly,
 *   SameSite=Strict cookie (a value derived from the token, not the token) and a redirect to `/`,
 *   so the token leaves the address bar and the page's own requests carry the cookie.
 * - Without one: loopback clients only (`kubectl port-forward` arrives on loopback).
 * - DNS rebinding: a page on another site whose name was made to resolve to 127.0.0.1 reaches a
 *   port-forward from the victim's browser, from loopback and with the site's cookies only. So a
 *   request that is not authenticated by its Authorization header (loopback, cookie) must name an
 *   accepted Host: localhost, 127.0.0.1, [::1], the listen address, POD_NAME, POD_IP, and
 *   API_ALLOWED_HOSTS.
 *
 * Tokens are compared in constant time (digests of equal length) and never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalHost, isLoopback, splitHostPort } from '../address.js';
import { UserError, quote } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { Handler } from './http.js';

/** Name of the cookie the page's `?token=` sets. */
export const TOKEN_COOKIE = 'traefik_sync_session';

/** Who may call the protected routes. */
export interface AccessOptions {
  /** The bearer token; null: loopback clients only. */
  readonly token: string | null;
  /** Host header values accepted from requests not authenticated by header (canonical hosts, no port). */
  readonly hosts: ReadonlySet<string>;
}

/** The paths that need a token (or loopback): the API and the operator page. */
export function isProtectedPath(pathname: string): boolean {
  return pathname === '/' || pathname.startsWith('/ui/') || pathname.startsWith('/api/');
}

/**
 * The token in `file` (surrounding whitespace ignored): at least 16 printable characters without
 * spaces. Registered as a secret, so no log line can carry it. Errors name `setting` and the file.
 */
export function loadApiToken(file: string, setting: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UserError(`${setting}: cannot read ${quote(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.length < 16 || !/^[\x21-\x7e]+$/.test(text)) {
    throw new UserError(`${setting}: the token in ${quote(file)} must be at least 16 printable characters without spaces`);
  }
  registerSecret(text);
  return text;
}

/** The Host values accepted by default plus those configured (see the module comment). */
export function acceptedHosts(config: {
  readonly httpHost: string;
  readonly podName?: string;
  readonly podIp?: string;
  readonly apiAllowedHosts: readonly string[];
}): Set<string> {
  const hosts = new Set(['localhost', '127.0.0.1', '::1', ...config.apiAllowedHosts]);
  for (const h of [config.httpHost, config.podName, config.podIp]) {
    const c = h ? canonicalHost(h) : null;
    if (c && c.host !== '0.0.0.0' && c.host !== '::') hosts.add(c.host);
  }
  return hosts;
}

const digest = (text: string) => createHash('sha256').update(text).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
/** The cookie's value: derived from the token, so the browser never stores the token itself. */
const sessionOf = (token: string) => createHash('sha256').update(`traefik-sync page session:${token}`).digest('hex');

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function refuse(res: ServerResponse, url: URL, status: 401 | 403, message: string): void {
  const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="traefik-sync"';
  if (url.pathname.startsWith('/api/')) {
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ error: message }));
  } else {
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${message}\n`);
  }
}

/** Whether the Host header names an accepted host (no Host header: not a browser, accepted). */
function hostAccepted(req: IncomingMessage, hosts: ReadonlySet<string>): boolean {
  const header = req.headers.host;
  if (header === undefined) return true;
  const hp = splitHostPort(header);
  const c = hp ? canonicalHost(hp.host) : null;
  return c !== null && hosts.has(c.host);
}

/** One protected handler: the checks of the module comment, then `handler`. */
function guard(handler: Handler, options: AccessOptions): Handler {
  const { token, hosts } = options;
  const session = token === null ? null : sessionOf(token);
  return (req, res, url) => {
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (token !== null && auth) {
      if (sameSecret(auth[1]!, token)) return handler(req, res, url);
      return refuse(res, url, 401, 'the bearer token is not valid');
    }
    if (token === null) {
      const from = canonicalHost(req.socket.remoteAddress ?? '');
      if (!from || !isLoopback(from))
        return refuse(
          res,
          url,
          403,
          'the API and the operator page answer loopback clients only; set API_TOKEN_FILE to allow others with a token',
        );
    }
    if (!hostAccepted(req, hosts)) {
      return refuse(
        res,
        url,
        403,
        `Host ${quote(String(req.headers.host).slice(0, 100))} is not accepted (DNS rebinding protection); use localhost, or add the name to API_ALLOWED_HOSTS (--api-allowed-hosts)`,
      );
    }
    if (token === null) return handler(req, res, url);
    const given = url.pathname === '/' ? url.searchParams.get('token') : null;
    if (given !== null) {
      if (!sameSecret(given, token)) return refuse(res, url, 401, 'the token is not valid');
      res.writeHead(303, {
        location: '/',
        'set-cookie': `${TOKEN_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      res.end();
      return;
    }
    const fromCookie = cookie(req, TOKEN_COOKIE);
    if (fromCookie !== undefined && sameSecret(fromCookie, session!)) return handler(req, res, url);
    return refuse(res, url, 401, 'a token is required: send "Authorization: Bearer <token>", or open /?token=<token> once in the browser');
  };
}

/** `routes` with every protected path ({@link isProtectedPath}) behind the checks of the module comment. */
export function protectRoutes(routes: ReadonlyMap<string, Handler>, options: AccessOptions): Map<string, Handler> {
  return new Map([...routes].map(([path, handler]) => [path, isProtectedPath(path) ? guard(handler, options) : handler]));
}
