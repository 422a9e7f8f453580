/**
 * Routes of the operator page: `/` (HTML), `/ui/app.css`, `/ui/icon.svg` (strings compiled into
 * the package) and its script modules `/ui/app.js`, `/ui/dom.js`, … (built by `npm run build`, see
 * modules.ts); any other `/ui/` path is 404. A strict Content-Security-Policy: only this origin's
 * script and style, no inline code, no framing, no form posts.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Handler } from '../observability/http.js';
import { INDEX_HTML } from './page.js';
import { browserModules } from './modules.js';
import { APP_CSS } from './style.js';

/** The page's Content-Security-Policy. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function asset(contentType: string, body: string): Handler {
  const bytes = Buffer.from(body, 'utf8');
  const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;
  return (req, res: ServerResponse) => {
    const headers = {
      'content-type': contentType,
      'cache-control': 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'content-security-policy': PAGE_CSP,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': bytes.length });
    res.end(bytes);
  };
}

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/><path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>';

/** The operator page's routes by path. */
export function uiRoutes(): Map<string, Handler> {
  return new Map<string, Handler>([
    ['/', asset('text/html; charset=utf-8', INDEX_HTML)],
    ...[...browserModules()].map(([name, text]): [string, Handler] => [`/ui/${name}`, asset('text/javascript; charset=utf-8', text)]),
    ['/ui/app.css', asset('text/css; charset=utf-8', APP_CSS)],
    ['/ui/icon.svg', asset('image/svg+xml', ICON_SVG)],
  ]);
}
