/**
 * Small HTTP backends on 127.0.0.1 that answer with their identity, and a client that talks to
 * Traefik's entry points with any Host header (and SNI for TLS).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { gunzipSync } from 'node:zlib';

/** What a backend saw of a request (its answer's JSON body). */
export interface Seen {
  readonly backend: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Raw header names and values, as received (byte-for-byte checks). */
  readonly rawHeaders: string[];
}

/** How a backend answers; changed by tests while it runs. */
export interface Behaviour {
  /** Status of every answer (default 200). */
  status?: number;
  /** Status of `/health` (default: `status`). */
  health?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Padding added to the JSON body (compression needs a body large enough). */
  pad?: number;
}

/** One backend: its name, port and URL, what it has seen, and how it answers. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly seen: Seen[];
  behaviour: Behaviour;
}

/** A set of backends, all closed by `close()`. */
export class Backends {
  readonly #servers: Server[] = [];
  readonly byPort = new Map<number, Backend>();

  /** Start a backend named `name` on a free loopback port (or on `port`, to bring a stopped one back). */
  async add(name: string, behaviour: Behaviour = {}, port = 0): Promise<Backend> {
    const server = createServer((req, res) => {
      const seen: Seen = { backend: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders };
      const b = backend.behaviour;
      backend.seen.push(seen);
      const status = req.url === '/health' ? (b.health ?? b.status ?? 200) : (b.status ?? 200);
      const body = JSON.stringify({ ...seen, pad: b.pad ? 'x'.repeat(b.pad) : undefined });
      res.writeHead(status, { 'content-type': 'application/json', ...b.headers });
      res.end(body);
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bound = (server.address() as { port: number }).port;
    const backend: Backend = { name, port: bound, url: `http://127.0.0.1:${bound}`, seen: [], behaviour };
    this.#servers.push(server);
    this.byPort.set(bound, backend);
    return backend;
  }

  /** Stop one backend (its port stops answering: a dead upstream). */
  async kill(backend: Backend): Promise<void> {
    const i = this.#servers.findIndex((s) => (s.address() as { port: number } | null)?.port === backend.port);
    if (i < 0) return;
    const [server] = this.#servers.splice(i, 1);
    server!.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }
}

/** An answer through Traefik. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, gunzipped when the response was gzip-encoded. */
  readonly body: string;
  readonly rawBody: Buffer;
  /** The backend's view when a backend answered (its JSON), else undefined. */
  readonly seen: Seen | undefined;
}

export interface RequestOptions {
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Through the websecure entry point (TLS, SNI = host). */
  readonly tls?: boolean;
  readonly body?: string;
}

/** One request to Traefik at `address` (`127.0.0.1:PORT`), without keep-alive. */
export function request(address: string, o: RequestOptions): Promise<Reply> {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const options = {
    hostname,
    port,
    path: o.path ?? '/',
    method: o.method ?? 'GET',
    headers: { ...o.headers, host: o.host },
    agent: false as const,
    servername: o.host,
    rejectUnauthorized: false,
    timeout: 10_000,
  };
  return new Promise((resolve, reject) => {
    const req = (o.tls ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const body = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(rawBody) : rawBody).toString('utf8');
        let seen: Seen | undefined;
        try {
          const parsed = JSON.parse(body) as Partial<Seen>;
          if (typeof parsed.backend === 'string') seen = parsed as Seen;
        } catch {
          /* not a backend's answer */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, rawBody, seen });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${o.host}${o.path ?? '/'} timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The certificate Traefik presents at `address` for SNI `servername`. */
export function peerCertificate(address: string, servername: string): Promise<PeerCertificate> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate(true);
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}
