/**
 * "The URL's host now points elsewhere" for tests: a TCP proxy on a free loopback port whose
 * target can be switched (a promoted standby behind a Service or DNS name). Switching resets every
 * connection to the old target, as a failover does.
 */
import net from 'node:net';

export interface SwitchProxy {
  readonly port: number;
  /** `url` (a postgres:// URL) with its port changed to the proxy's. */
  via(url: string): string;
  /** New connections go to `port` from now on; open ones are reset. */
  switchTo(port: number): void;
  close(): Promise<void>;
}

/** A proxy to 127.0.0.1:`port`. */
export async function switchProxy(port: number): Promise<SwitchProxy> {
  let target = port;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    via(url) {
      const u = new URL(url);
      u.port = String((server.address() as net.AddressInfo).port);
      return u.toString();
    },
    switchTo(p) {
      target = p;
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
