/**
 * The renderer's column names in messages about entry points and TCP/UDP routes
 * (render/entry-points.ts, render/l4.ts: "entry_points[0]: …", "sni: …", "servers[1].port: …")
 * → the spec's and API's field names (entryPoints, sni, servers[1].port, provider, …).
 */

const NAMES: Readonly<Record<string, string>> = {
  entry_points: 'entryPoints',
  entry_point: 'entryPoint',
  tls_resolver: 'provider',
  proxy_protocol: 'proxyProtocol',
};

/** `column[i].field: message` → the field's path segments and the message; null when the text names no field. */
export function l4Field(text: string): { field: string[]; message: string } | null {
  const m = /^([a-z_]+)((?:\.[A-Za-z0-9_-]+|\[\d+\])*): ([\s\S]*)$/.exec(text);
  if (!m) return null;
  const head = NAMES[m[1]!] ?? m[1]!;
  return { field: [head, ...(m[2]!.match(/[A-Za-z0-9_-]+|\d+/g) ?? [])], message: m[3]! };
}
