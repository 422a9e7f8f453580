/**
 * Spec fields for entry points and for TCP and UDP routes (docs/spec-format.md "Entry points",
 * "TCP and UDP"): their shapes here; whether an entry point exists, and the rules across fields
 * (an SNI needs TLS, UDP on a UDP entry point), are the renderer's (render/entry-points.ts,
 * render/l4.ts), so the config service and the controller refuse the same rows.
 */
import { z } from 'zod';
import { quote } from '../errors.js';
import type { L4Route } from '../model.js';
import { MAX_ENTRY_POINTS } from '../render/entry-points.js';
import { MAX_L4_SERVERS } from '../render/l4.js';
import { hostnameField, nameField, portField, providerField } from './fields.js';
import type { L4RouteRow } from './rows.js';

const ENTRY_POINT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** One entry point name, as TRAEFIK_ENTRYPOINTS takes them. */
export const entryPointField = z.string().superRefine((v, ctx) => {
  if (!ENTRY_POINT.test(v))
    ctx.addIssue({ code: 'custom', message: `expected an entry point name (letters, digits, "-", "_"), got ${quote(v)}` });
  else if (v === 'traefik') ctx.addIssue({ code: 'custom', message: '"traefik" is the API entry point; routers never go there' });
});

/** A domain's or route's entry points: 1–8 names. */
export const entryPointsField = z.array(entryPointField).min(1).max(MAX_ENTRY_POINTS);

/** A TCP route's server name: a host name, or `*` for every connection. */
const sniField = z.string().superRefine((v, ctx) => {
  if (v === '*') return;
  const r = hostnameField.safeParse(v);
  if (!r.success)
    ctx.addIssue({ code: 'custom', message: `expected a host name, or "*" for every connection: ${r.error.issues[0]!.message}` });
});

const l4Server = z.strictObject({ host: hostnameField, port: portField });
const l4Servers = z.array(l4Server).min(1).max(MAX_L4_SERVERS);

/** A TCP route in a spec. */
export const tcpRouteSpec = z.strictObject({
  name: nameField,
  entryPoint: entryPointField,
  sni: sniField,
  tls: z.enum(['terminate', 'passthrough']).nullable().optional(),
  provider: providerField.nullable().optional(),
  servers: l4Servers,
  proxyProtocol: z
    .union([z.literal(1), z.literal(2)])
    .nullable()
    .optional(),
  active: z.boolean().optional(),
});

/** A UDP route in a spec. */
export const udpRouteSpec = z.strictObject({
  name: nameField,
  entryPoint: entryPointField,
  servers: l4Servers,
  active: z.boolean().optional(),
});

/** A TCP or UDP route as a spec describes it (`id` set when matched to a stored row). */
export type DesiredL4Route = Omit<L4Route, 'id'>;

/** The desired routes of a spec's `tcp` and `udp` lists. */
export function desiredL4(
  tcp: ReadonlyArray<z.output<typeof tcpRouteSpec>>,
  udp: ReadonlyArray<z.output<typeof udpRouteSpec>>,
): DesiredL4Route[] {
  return [
    ...tcp.map((r) => ({
      protocol: 'tcp' as const,
      name: r.name,
      entryPoint: r.entryPoint,
      sni: r.sni,
      tls: r.tls ?? null,
      tlsResolver: r.provider ?? null,
      servers: r.servers,
      proxyProtocol: r.proxyProtocol ?? null,
      isActive: r.active ?? true,
    })),
    ...udp.map((r) => ({
      protocol: 'udp' as const,
      name: r.name,
      entryPoint: r.entryPoint,
      sni: null,
      tls: null,
      tlsResolver: null,
      servers: r.servers,
      proxyProtocol: null,
      isActive: r.active ?? true,
    })),
  ];
}

/** Where a desired route sits in its spec: `tcp[0]`, `udp[1]`. */
export function l4SpecPath(routes: readonly DesiredL4Route[], i: number): string {
  const r = routes[i]!;
  return `${r.protocol}[${routes.slice(0, i).filter((x) => x.protocol === r.protocol).length}]`;
}

/** Problems across a spec's TCP and UDP routes: a name listed twice. */
export function l4SpecIssues(routes: readonly DesiredL4Route[]): Array<{ path: string; message: string }> {
  const seen = new Set<string>();
  const out: Array<{ path: string; message: string }> = [];
  routes.forEach((r, i) => {
    const key = `${r.protocol}:${r.name}`;
    if (seen.has(key)) out.push({ path: `${l4SpecPath(routes, i)}.name`, message: `${r.protocol} route ${quote(r.name)} is listed twice` });
    seen.add(key);
  });
  return out;
}

/** Target rows of the desired routes, keeping the ids of stored rows with the same protocol and name. */
export function matchL4(
  current: readonly L4RouteRow[],
  desired: readonly DesiredL4Route[],
  projectId: string,
  newId: () => string,
  paths: Map<string, string>,
): L4RouteRow[] {
  const ids = new Map(current.map((r) => [`${r.protocol}:${r.name}`, r.id]));
  return desired.map((r, i) => {
    const id = ids.get(`${r.protocol}:${r.name}`) ?? newId();
    paths.set(id, l4SpecPath(desired, i));
    return {
      id,
      project_id: projectId,
      protocol: r.protocol,
      name: r.name,
      entry_point: r.entryPoint,
      sni: r.sni,
      tls: r.tls,
      tls_resolver: r.tlsResolver,
      servers: r.servers,
      proxy_protocol: r.proxyProtocol,
      is_active: r.isActive,
    };
  });
}

/** The spec's `tcp` and `udp` lists of stored rows (each only when it has routes: older exports stay as they were). */
export function exportL4(rows: readonly L4RouteRow[]): Record<string, unknown> {
  const tcp = rows
    .filter((r) => r.protocol === 'tcp')
    .map((r) => ({
      name: r.name,
      entryPoint: r.entry_point,
      sni: r.sni,
      ...(r.tls ? { tls: r.tls } : {}),
      ...(r.tls_resolver ? { provider: r.tls_resolver } : {}),
      servers: r.servers.map((s) => ({ host: s.host, port: s.port })),
      ...(r.proxy_protocol ? { proxyProtocol: r.proxy_protocol } : {}),
      ...(r.is_active ? {} : { active: false }),
    }));
  const udp = rows
    .filter((r) => r.protocol === 'udp')
    .map((r) => ({
      name: r.name,
      entryPoint: r.entry_point,
      servers: r.servers.map((s) => ({ host: s.host, port: s.port })),
      ...(r.is_active ? {} : { active: false }),
    }));
  return { ...(tcp.length ? { tcp } : {}), ...(udp.length ? { udp } : {}) };
}
