/**
 * TCP and UDP backends on 127.0.0.1 for the TCP/UDP tests, and clients that talk to Traefik's
 * entry points: a TCP echo that prefixes its name (plain, or TLS with a certificate of its own),
 * one that first reads a PROXY protocol v2 header and answers with the client address it names,
 * and a UDP echo. Each closes with `close()`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, createServer as netServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsServer, type PeerCertificate } from 'node:tls';

/** A listening backend: its port, and how to stop it. */
export interface L4Backend {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<L4Backend> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Answer each chunk with `<name>:<chunk>`. */
function echo(name: string) {
  return (socket: Socket) => {
    socket.on('data', (d) => socket.write(`${name}:${d.toString('utf8')}`));
    socket.on('error', () => socket.destroy());
  };
}

/** A plain TCP echo named `name`. */
export function tcpEcho(name: string): Promise<L4Backend> {
  return listen(netServer(echo(name)));
}

/** A TLS echo named `name` that presents `cert` (its own: what a passthrough client must see). */
export function tlsEcho(name: string, cert: string, key: string): Promise<L4Backend> {
  return listen(tlsServer({ cert, key }, echo(name)) as unknown as Server);
}

const PP2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A TCP backend that reads a PROXY protocol v2 header and answers `pp2 <source address>` (or `no pp2`). */
export function proxyProtocolEcho(): Promise<L4Backend> {
  return listen(
    netServer((socket) => {
      socket.once('data', (d) => {
        // v2: signature (12), version/command, family/protocol, length (2), then for TCP over IPv4 the source address.
        if (d.length >= 20 && d.subarray(0, 12).equals(PP2_SIGNATURE) && d[13] === 0x11) {
          socket.end(`pp2 ${[...d.subarray(16, 20)].join('.')}`);
        } else socket.end(`no pp2: ${d.subarray(0, 12).toString('hex')}`);
      });
      socket.on('error', () => socket.destroy());
    }),
  );
}

/** A UDP echo named `name`: each datagram comes back as `<name>:<datagram>`. */
export async function udpEcho(name: string): Promise<L4Backend> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(`${name}:${msg.toString('utf8')}`, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** `host` and `port` of an entry point's address (`127.0.0.1:PORT`, with an optional `/udp`). */
function split(address: string): { host: string; port: number } {
  const a = address.replace(/\/udp$/, '');
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

/** What a TCP client got: the answer text (empty when the connection closed without one), and the server's certificate over TLS. */
export interface TcpAnswer {
  readonly text: string;
  readonly cert?: PeerCertificate;
}

/**
 * Connect to `address` (over TLS with `servername` when given), send `message`, and collect what
 * comes back until the server closes or `idleMs` passes after the first answer.
 */
export function tcpAsk(address: string, message: string, servername?: string): Promise<TcpAnswer> {
  const { host, port } = split(address);
  return new Promise((resolve, reject) => {
    let text = '';
    let cert: PeerCertificate | undefined;
    const socket: Socket =
      servername === undefined
        ? netConnect({ host, port }, () => socket.write(message))
        : tlsConnect({ host, port, servername, rejectUnauthorized: false }, () => {
            cert = (socket as ReturnType<typeof tlsConnect>).getPeerCertificate();
            socket.write(message);
          });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${address} (${servername ?? 'plain'})`)));
    socket.on('data', (d) => {
      text += d.toString('utf8');
      // The echo answers once per message: the answer is complete when it holds the message.
      if (text.endsWith(message)) socket.end();
    });
    socket.on('error', (err) => (text ? resolve({ text, cert }) : reject(err)));
    socket.on('close', () => resolve({ text, cert }));
  });
}

/** Send `message` to a UDP `address` and wait for one datagram back (rejects after `timeoutMs`). */
export function udpAsk(address: string, message: string, timeoutMs = 5000): Promise<string> {
  const { host, port } = split(address);
  const socket: UdpSocket = createSocket('udp4');
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no datagram back from ${address} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg.toString('utf8'));
    });
    socket.send(message, port, host);
  }).finally(() => socket.close());
}
