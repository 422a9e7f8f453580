/**
 * Fields of the HTTP capabilities beyond one upstream per route (docs/spec-format.md: load
 * balancing, …), for the spec file and the service API. Each is checked by the renderer's own
 * rule (render/upstream.ts, …), so whatever passes here renders, and the messages name the field.
 */
import { z } from 'zod';
import { redirectProblems } from '../render/redirect.js';
import { serverProblems, stickyProblems } from '../render/upstream.js';
import { splitPrefixed } from './checks.js';
import { nameField, sizeCapped } from './fields.js';

/** A zod schema running a renderer check that returns `field: message` problems for the value. */
export function rendererChecked(check: (value: unknown, field: string) => string[]) {
  return z.unknown().superRefine((value, ctx) => {
    for (const p of check(value, '')) {
      const { segments, message } = splitPrefixed(p);
      ctx.addIssue({ code: 'custom', message, path: segments });
    }
  });
}

/**
 * A shared middleware in a spec: `{name, <type>: {options}}` — a name and exactly one middleware
 * type. What the options may hold is checked by the renderer (render/shared.ts), which needs the
 * project's services and other middlewares.
 */
export const sharedMiddlewareSpec = z
  .object({ name: nameField })
  .catchall(sizeCapped(z.record(z.string(), z.unknown())))
  .superRefine((m, ctx) => {
    const types = Object.keys(m).filter((k) => k !== 'name');
    if (types.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected the name and exactly one middleware type with its options (like forwardAuth: {...}), got ${types.length ? types.join(', ') : 'none'}`,
      });
    }
  });

/** A route's upstream servers (1–64; url, or host and port; weight). */
export const serversField = rendererChecked(serverProblems);
/** A domain's redirect (`{to, permanent, scheme}`); that it is not the domain itself is checked with the domain (checks-http.ts). */
export const redirectField = rendererChecked((v, field) => redirectProblems(v, '', field));
/** A route's sticky sessions (`{cookie: {name, secure, httpOnly, sameSite, maxAge}}`). */
export const stickyField = rendererChecked(stickyProblems);
