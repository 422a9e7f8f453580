/**
 * Host names and IP addresses as a network client reads them: every spelling of an address
 * (decimal, octal and hex IPv4, short forms, IPv4-mapped and IPv4-compatible IPv6, percent-encoded
 * names) folded to one canonical form, and which of them name the pod itself or the cloud's
 * metadata service. Traefik shares the pod's network: an upstream at such an address would
 * publish the pod's own ports (the sidecar's API) or the instance's credentials on a public route.
 */

/** A host in canonical form: IPv4 dotted quad, IPv6 compressed lower case (no brackets), or a lower-case name. */
export interface Host {
  readonly kind: 'ipv4' | 'ipv6' | 'name';
  readonly host: string;
}

/**
 * `host` (as written in a URL's authority, a host field or a `host:port` endpoint; IPv6 with or
 * without brackets) in canonical form, as a WHATWG URL parser (and `inet_aton`) reads it:
 * `0x7f.1`, `2130706433` and `0177.0.0.1` are all `127.0.0.1`. Null when it is no host at all.
 */
export function canonicalHost(host: string): Host | null {
  let h = host.trim();
  if (h === '' || /[\s/?#@\\]/.test(h)) return null;
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  let parsed: string;
  try {
    parsed = new URL(`http://${h}/`).hostname;
  } catch {
    return null;
  }
  if (parsed.startsWith('[')) return { kind: 'ipv6', host: parsed.slice(1, -1) };
  if (/^\d+\.\d+\.\d+\.\d+$/.test(parsed)) return { kind: 'ipv4', host: parsed };
  return { kind: 'name', host: parsed.replace(/\.+$/, '') };
}

/** The 8 groups of a canonical IPv6 address. */
function groups(v6: string): number[] {
  const [head, tail] = v6.includes('::') ? v6.split('::') : [v6, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  return tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
}

/** Names that resolve to the machine itself (or to the metadata service) everywhere they exist. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain|localhost6|localhost6\.localdomain6|ip6-localhost|ip6-loopback|.+\.localhost)$/;
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);
/** Cloud metadata and host-agent addresses outside link-local (Alibaba, Azure WireServer, AWS IPv6). */
const METADATA_ADDRESSES = new Set(['100.100.100.200', '168.63.129.16', 'fd00:ec2::254']);

function ipv4Kind(v4: string): string | null {
  const [a, b] = v4.split('.').map(Number) as [number, number];
  if (a === 127) return 'a loopback address (127.0.0.0/8)';
  if (a === 0) return 'the unspecified address (0.0.0.0/8, which reaches the pod itself)';
  if (a === 169 && b === 254) return 'a link-local address (169.254.0.0/16: the cloud metadata service)';
  if (METADATA_ADDRESSES.has(v4)) return 'a cloud metadata address';
  return null;
}

/**
 * Why `host` names the pod itself or the metadata service (a phrase for a message), or null when
 * it does not: loopback (127.0.0.0/8, ::1, localhost, *.localhost), unspecified (0.0.0.0/8, ::),
 * link-local (169.254.0.0/16, fe80::/10), IPv4-mapped/-compatible forms of those, and the known
 * metadata names and addresses. Names are judged by their spelling only (a DNS name that
 * resolves to 127.0.0.1 is not caught here; NetworkPolicy egress rules are the place for that).
 */
export function internalHostKind(host: Host): string | null {
  if (host.kind === 'name') {
    if (LOCAL_NAMES.test(host.host)) return 'the pod itself (a loopback name)';
    if (METADATA_NAMES.has(host.host)) return 'the cloud metadata service';
    return null;
  }
  if (host.kind === 'ipv4') return ipv4Kind(host.host);
  const g = groups(host.host);
  if (g.every((x) => x === 0)) return 'the unspecified address (::, which reaches the pod itself)';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'the loopback address (::1)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  if (METADATA_ADDRESSES.has(host.host)) return 'a cloud metadata address';
  const embedded = g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0);
  if (embedded) return ipv4Kind(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  return null;
}

/** True for a loopback address (127.0.0.0/8, ::1, and their IPv4-mapped forms): a client on this machine. */
export function isLoopback(host: Host): boolean {
  if (host.kind === 'ipv4') return host.host.startsWith('127.');
  if (host.kind !== 'ipv6') return false;
  const g = groups(host.host);
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true;
  return g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff && g[6]! >> 8 === 127;
}

/** An exception allowed by ALLOWED_INTERNAL_TARGETS: a host, on any port or on one. */
export interface InternalTarget {
  readonly host: string;
  readonly port: number | null;
}

/**
 * Parse a comma-separated list of `host` or `host:port` entries (IPv6 in brackets when a port
 * follows). Throws an Error naming the bad entry.
 */
export function parseInternalTargets(text: string): InternalTarget[] {
  const out: InternalTarget[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry) ?? /^([0-9a-fA-F:]+)()$/.exec(entry);
    const host = m ? canonicalHost(m[1]!) : null;
    const port = m?.[2] ? Number(m[2]) : null;
    if (!host || (port !== null && (port < 1 || port > 65535))) {
      throw new Error(`${JSON.stringify(entry)} is not a host or host:port (e.g. "127.0.0.1:8081", "[::1]:8081", "localhost")`);
    }
    out.push({ host: host.host, port });
  }
  return out;
}

/**
 * The problem with an upstream at `host` (any spelling) and `port`, or null when it is not
 * internal or `allowed` names it. `what` names the field (`target_url`, `host`, …).
 */
export function internalTargetProblem(what: string, host: string, port: number | null, allowed: readonly InternalTarget[]): string | null {
  const h = canonicalHost(host);
  if (!h) return null;
  const kind = internalHostKind(h);
  if (!kind) return null;
  if (allowed.some((a) => a.host === h.host && (a.port === null || a.port === port))) return null;
  return (
    `${what} points at ${kind} (${h.kind === 'ipv6' ? `[${h.host}]` : h.host}${port === null ? '' : `:${port}`}): Traefik shares ` +
    `the pod's network, so a route to it would publish the pod's own ports or the cloud's credentials; ` +
    `list it in ALLOWED_INTERNAL_TARGETS (--allowed-internal-targets) if that is intended`
  );
}

/**
 * `host[:port]` of an endpoint (`redis.example:6379`, `[::1]:6379`) or a URL's authority (userinfo
 * cut at its last "@", as URL parsers do); null when there is no host.
 */
export function splitHostPort(authority: string): { host: string; port: number | null } | null {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!m || m[1] === '') return null;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : null };
}

/** {@link internalTargetProblem} for a URL (`http://host:port/…`; the port defaults to the scheme's). */
export function internalUrlProblem(what: string, url: string, allowed: readonly InternalTarget[]): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(url);
  const hp = m ? splitHostPort(m[2]!) : null;
  if (!m || !hp) return null;
  const scheme = m[1]!.toLowerCase();
  return internalTargetProblem(what, hp.host, hp.port ?? (scheme === 'https' ? 443 : 80), allowed);
}
