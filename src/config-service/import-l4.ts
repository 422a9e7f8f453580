/**
 * `import`: TCP and UDP routers of existing Traefik files → the `tcp` and `udp` routes of a
 * project (docs/spec-format.md "TCP and UDP"). A TCP router maps when its rule is one
 * ``HostSNI(`name`)`` (or `*`), it names exactly one entry point, and its service is a
 * `loadBalancer` of `host:port` servers; TLS becomes `terminate` (with its `certResolver` as
 * `provider`) or `passthrough`, and the load balancer's `proxyProtocol` is kept. A UDP router maps
 * with one entry point and such a service. Everything else is reported, never dropped silently;
 * the config service then checks each route like any spec (the entry point must exist, a name
 * needs TLS, …) and import leaves out, with the reason, what it refuses.
 */
import type { ImportNote, L4SourceTree, Sourced } from './import-read.js';

type Obj = Record<string, unknown>;

/** Where mapped routes go: the project spec of a source file, and its spec-path → source map. */
export interface L4Target {
  readonly spec: { tcp?: Obj[]; udp?: Obj[] };
  readonly sources: Map<string, string[]>;
}

const HOST_SNI = /^HostSNI\(\s*(?:`([^`]*)`|"([^"]*)")\s*\)$/;
const ADDRESS = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The servers of a `loadBalancer` service as `{host, port}`, or the reason it cannot map. */
function serversOf(service: Sourced<Obj> | undefined, name: unknown): { servers: Obj[]; notes: string[] } | { error: string } {
  if (!service) return { error: `service ${JSON.stringify(name)} is not defined in these files` };
  const lb = service.value.loadBalancer;
  if (!isObj(lb)) return { error: `service ${service.name} is not a loadBalancer (weighted services cannot be mapped)` };
  const list = Array.isArray(lb.servers) ? lb.servers : [];
  const servers: Obj[] = [];
  for (const s of list) {
    const m = isObj(s) && typeof s.address === 'string' ? ADDRESS.exec(s.address) : null;
    if (!m) return { error: `service ${service.name}: server ${JSON.stringify(s)} is not an address host:port` };
    if (isObj(s) && s.tls === true) return { error: `service ${service.name}: TLS to the servers (servers[].tls) is not supported` };
    servers.push({ host: m[1]!.toLowerCase(), port: Number(m[2]) });
  }
  if (!servers.length) return { error: `service ${service.name} has no servers` };
  const notes = Object.keys(lb)
    .filter((k) => k !== 'servers' && k !== 'proxyProtocol')
    .map((k) => `loadBalancer.${k} of service ${service.name} ignored (not supported)`);
  return { servers, notes };
}

/** Map the TCP and UDP routers of `tree` into the targets `targetFor` gives (by source file). */
export function mapL4(
  tree: L4SourceTree,
  targetFor: (file: string) => L4Target,
  note: (file: string, item: string, status: ImportNote['status'], reason: string) => void,
  routeName: (text: string) => string,
): void {
  const used = new Set<string>();
  for (const protocol of ['tcp', 'udp'] as const) {
    const routers = protocol === 'tcp' ? tree.tcpRouters : tree.udpRouters;
    const services = protocol === 'tcp' ? tree.tcpServices : tree.udpServices;
    for (const r of routers.values()) {
      const item = `${protocol}.routers.${r.name}`;
      const skip = (reason: string) => note(r.file, item, 'skipped', reason);
      const v = r.value;
      const eps = Array.isArray(v.entryPoints) ? v.entryPoints.map(String) : [];
      if (eps.length !== 1) {
        skip(
          eps.length
            ? `entryPoints ${JSON.stringify(eps)}: a ${protocol.toUpperCase()} route has one entry point (write one route per entry point)`
            : 'no entryPoints: Traefik puts it on every entry point; a route of traefik-sync names one',
        );
        continue;
      }
      const sni = protocol === 'tcp' ? (typeof v.rule === 'string' ? HOST_SNI.exec(v.rule) : null) : null;
      if (protocol === 'tcp' && !sni) {
        skip(`rule ${JSON.stringify(v.rule)} is not one HostSNI(\`…\`) (HostSNIRegexp, ClientIP, ALPN, ||, … cannot be mapped)`);
        continue;
      }
      const found = serversOf(services.get(String(v.service)), v.service);
      if ('error' in found) {
        skip(found.error);
        continue;
      }
      used.add(String(v.service));
      const notes = [...found.notes];
      const route: Obj = { name: routeName(r.name), entryPoint: eps[0] };
      if (protocol === 'tcp') {
        route.sni = (sni![1] ?? sni![2])!.toLowerCase();
        const tls = v.tls;
        if (isObj(tls)) {
          route.tls = tls.passthrough === true ? 'passthrough' : 'terminate';
          if (typeof tls.certResolver === 'string' && route.tls === 'terminate') route.provider = tls.certResolver;
          for (const k of Object.keys(tls))
            if (!['passthrough', 'certResolver'].includes(k)) notes.push(`tls.${k} ignored (not supported)`);
        }
        const pp = (services.get(String(v.service))!.value.loadBalancer as Obj).proxyProtocol;
        if (isObj(pp)) route.proxyProtocol = pp.version === 1 ? 1 : 2;
      }
      route.servers = found.servers;
      for (const k of Object.keys(v))
        if (!['rule', 'service', 'entryPoints', 'tls', 'ruleSyntax'].includes(k)) notes.push(`${k} ignored (not supported)`);
      const target = targetFor(r.file);
      const list = (target.spec[protocol] ??= []);
      if (list.some((x) => x.name === route.name)) {
        skip(`another ${protocol.toUpperCase()} router of this project already maps to the name ${JSON.stringify(route.name)}`);
        continue;
      }
      list.push(route);
      target.sources.set(`${protocol}[${list.length - 1}]`, [`${r.file}: ${item}`]);
      for (const n of notes) note(r.file, item, 'adjusted', n);
    }
    for (const s of services.values())
      if (!used.has(s.name)) note(s.file, `${protocol}.services.${s.name}`, 'skipped', 'not used by any imported router');
  }
}
