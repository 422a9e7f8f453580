/**
 * The settings that shape the generated static config (README "Configuration"): entry points,
 * Traefik's API/ping entry point, the providers throttle. Parsed from their text here; every
 * message names the setting and quotes the value.
 */
import { UserError, quote } from '../errors.js';

/** One entry point: its name and Traefik address (`[host]:port[/udp|/tcp]`). */
export interface EntryPointSetting {
  readonly name: string;
  readonly address: string;
}

/** The parts of the static config that settings decide (src/render/static.ts renders them). */
export interface StaticSettings {
  readonly entryPoints: readonly EntryPointSetting[];
  /** `host:port` of the internal `traefik` entry point (API, dashboard); null = no API. */
  readonly apiAddress: string | null;
  /** `providers.providersThrottleDuration`, a Go duration. */
  readonly throttle: string;
  /** Operator YAML merged over the generated document (static-overlay.ts). */
  readonly overlay: StaticOverlay | null;
}

/** A parsed TRAEFIK_STATIC_FILE: where it came from (for messages) and its document. */
export interface StaticOverlay {
  readonly file: string;
  readonly doc: Readonly<Record<string, unknown>>;
}

/** The entry points traefik-sync's routers use: each must be defined. */
export const REQUIRED_ENTRY_POINTS = ['web', 'websecure'] as const;
/** The name of Traefik's internal entry point (API, dashboard); Traefik gives it this name. */
export const API_ENTRY_POINT = 'traefik';

export const DEFAULT_ENTRY_POINTS = 'web=:80,websecure=:443,metrics=:8082';
export const DEFAULT_API_ADDRESS = '127.0.0.1:8080';
export const DEFAULT_THROTTLE = '500ms';

/** The static settings when nothing is set (the defaults of README "Configuration"). */
export const DEFAULT_STATIC_SETTINGS: StaticSettings = Object.freeze({
  entryPoints: Object.freeze([
    { name: 'web', address: ':80' },
    { name: 'websecure', address: ':443' },
    { name: 'metrics', address: ':8082' },
  ]),
  apiAddress: DEFAULT_API_ADDRESS,
  throttle: DEFAULT_THROTTLE,
  overlay: null,
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** `host:port` with an optional IPv4/IPv6/name host, then an optional `/udp` or `/tcp`. */
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})(\/(?:udp|tcp))?$/;

function portOf(text: string): number | null {
  const m = ADDRESS.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? port : null;
}

const ANY_HOST = new Set(['', '0.0.0.0', '[::]']);

/** Whether two addresses would bind the same socket (same port and protocol, hosts equal or one is every interface). */
function sameSocket(a: string, b: string): boolean {
  const ma = ADDRESS.exec(a);
  const mb = ADDRESS.exec(b);
  if (!ma || !mb || Number(ma[2]) !== Number(mb[2]) || (ma[3] ?? '') !== (mb[3] ?? '')) return false;
  return ma[1] === mb[1] || ANY_HOST.has(ma[1]!) || ANY_HOST.has(mb[1]!);
}

/**
 * Parse TRAEFIK_ENTRYPOINTS: `name=[host]:port[/udp]`, comma-separated. `web` and `websecure`
 * are required and must be TCP; names are unique, and so are addresses; `traefik` is reserved
 * for TRAEFIK_API_ADDR.
 */
export function parseEntryPoints(text: string, setting: string): EntryPointSetting[] {
  const out: EntryPointSetting[] = [];
  const fail = (what: string): never => {
    throw new UserError(`${setting}: ${what} (expected name=[host]:port[/udp], comma-separated, like ${quote(DEFAULT_ENTRY_POINTS)})`);
  };
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') fail(`empty entry in ${quote(text)}`);
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const address = eq < 0 ? '' : item.slice(eq + 1);
    if (eq < 0) fail(`${quote(item)} has no address`);
    if (!NAME.test(name)) fail(`entry point name ${quote(name)}: letters, digits, "-" and "_" only`);
    if (name === API_ENTRY_POINT) fail(`entry point name ${quote(name)} is reserved for the API entry point (TRAEFIK_API_ADDR)`);
    if (out.some((e) => e.name === name)) fail(`entry point ${quote(name)} is listed twice`);
    if (portOf(address) === null) fail(`entry point ${name}: address ${quote(address)} is not [host]:port with a port 1–65535`);
    const normalized = address.endsWith('/tcp') ? address.slice(0, -4) : address;
    const clash = out.find((e) => sameSocket(e.address, normalized));
    if (clash) fail(`entry point ${name}: address ${quote(address)} is also the address of entry point ${quote(clash.name)}`);
    out.push({ name, address: normalized });
  }
  for (const required of REQUIRED_ENTRY_POINTS) {
    const ep = out.find((e) => e.name === required);
    if (!ep) fail(`the entry point ${quote(required)} is required, got ${quote(text)}`);
    else if (ep.address.endsWith('/udp'))
      fail(`the entry point ${quote(required)} serves HTTP and cannot be UDP, got ${quote(ep.address)}`);
  }
  return out;
}

const LOOPBACK = /^(127(\.[0-9]{1,3}){3}|\[::1\]|localhost)$/;

/**
 * Parse TRAEFIK_API_ADDR: empty = no API; otherwise a loopback `host:port` (the API shows the whole
 * configuration, basic-auth hashes included, so it never listens beyond the pod).
 */
export function parseApiAddress(text: string, setting: string, entryPoints: readonly EntryPointSetting[]): string | null {
  if (text === '') return null;
  const m = ADDRESS.exec(text);
  if (!m || m[3] !== undefined || portOf(text) === null) {
    throw new UserError(
      `${setting}: expected a loopback host:port like ${quote(DEFAULT_API_ADDRESS)}, or empty for no API, got ${quote(text)}`,
    );
  }
  if (!LOOPBACK.test(m[1]!)) {
    throw new UserError(
      `${setting}: the API entry point listens on loopback only (127.0.0.1, [::1] or localhost): it shows the whole configuration; got ${quote(text)}`,
    );
  }
  const clash = entryPoints.find((e) => sameSocket(e.address, text));
  if (clash) throw new UserError(`${setting}: ${quote(text)} is also the address of entry point ${quote(clash.name)}`);
  return text;
}
