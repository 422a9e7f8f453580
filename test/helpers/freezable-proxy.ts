/**
 * A network partition for tests: a TCP proxy whose connections can be frozen — kept open, but
 * nothing passes either way and nothing is reset, as when packets are dropped.
 */
import net from 'node:net';

export interface FreezableProxy {
  readonly port: number;
  /** `url` (a postgres:// URL to the target) with its port changed to the proxy's. */
  via(url: string): string;
  /** From now on, bytes in either direction are dropped, on current and new connections; none is closed. */
  freeze(): void;
  /**
   * The partition heals: frozen connections are reset, both sides (so the server drops their
   * sessions, even those whose client gave up and closed its end meanwhile); new ones pass.
   */
  thaw(): void;
  close(): Promise<void>;
}

/** A proxy to `target` (PostgreSQL, say) on a free port of 127.0.0.1. */
export async function freezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<{ frozen: boolean; sockets: net.Socket[] }>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const link = { frozen, sockets: [client, upstream] };
    links.add(link);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        if (link.sockets.every((x) => x.destroyed)) links.delete(link);
      });
    }
    client.on('data', (d) => {
      if (!link.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!link.frozen) client.write(d);
    });
    client.on('end', () => {
      if (!link.frozen) upstream.end();
    });
    upstream.on('end', () => {
      if (!link.frozen) client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.port = String(port);
      return u.toString();
    },
    freeze() {
      frozen = true;
      for (const l of links) l.frozen = true;
    },
    thaw() {
      frozen = false;
      for (const l of links) if (l.frozen) for (const s of l.sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
