/**
 * Connection limits that no client can turn against the probes. A server that refuses new
 * connections once full (node's `maxConnections`) lets anyone who holds the slots — idle,
 * slowloris or unread connections — fail the kubelet's probes. Here a new connection is always
 * taken, and one already held makes room for it: from the client address holding the most
 * connections, its oldest connection without a request in flight.
 *
 * A probe opens a fresh connection and sends its request at once; the connections it competes
 * with are older. Over the soft limits (`maxConnections`, `maxPerClient`) only connections older
 * than `graceMs` make room, so a new connection has time to deliver its request even while a
 * flood churns; past twice the limits (the hard cap on descriptors) the oldest makes room
 * whatever its age.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Limits of {@link guardConnections}. */
export interface ConnectionLimits {
  /** Connections held at once (all clients); twice this is the hard cap. */
  readonly maxConnections: number;
  /** Connections held at once by one client address; twice this is its hard cap. */
  readonly maxPerClient: number;
  /** A connection this young is only closed to make room past a hard cap (default 250 ms). */
  readonly graceMs?: number;
}

interface Held {
  readonly client: string;
  readonly since: number;
  /** Requests received and not answered yet. */
  busy: number;
}

/** Apply `limits` to `server`. Returns a function giving the number of connections held. */
export function guardConnections(server: Server, limits: ConnectionLimits): () => number {
  const graceMs = limits.graceMs ?? 250;
  const held = new Map<Socket, Held>();
  /** Per client address, its sockets in the order they came (oldest first). */
  const byClient = new Map<string, Set<Socket>>();

  const forget = (socket: Socket) => {
    const h = held.get(socket);
    if (!h) return;
    held.delete(socket);
    const set = byClient.get(h.client);
    set?.delete(socket);
    if (set?.size === 0) byClient.delete(h.client);
  };

  /** The oldest idle socket of `set` older than `before` (any busy one when `hard` and none is idle). */
  const victimIn = (set: Set<Socket>, spare: Socket, before: number, hard: boolean): Socket | undefined => {
    let busy: Socket | undefined;
    for (const s of set) {
      const h = held.get(s)!;
      if (s === spare || h.since > before) continue;
      if (h.busy === 0) return s;
      busy ??= s;
    }
    return hard ? busy : undefined;
  };

  /** Close one socket of `set` to make room; true when one was closed. */
  const makeRoom = (set: Set<Socket> | undefined, spare: Socket, hard: boolean): boolean => {
    if (!set) return false;
    const victim = victimIn(set, spare, hard ? Infinity : Date.now() - graceMs, hard);
    if (!victim) return false;
    forget(victim);
    victim.destroy();
    return true;
  };

  const biggest = (): Set<Socket> | undefined => {
    let max: Set<Socket> | undefined;
    for (const set of byClient.values()) if (!max || set.size > max.size) max = set;
    return max;
  };

  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    held.set(socket, { client, since: Date.now(), busy: 0 });
    const mine = byClient.get(client) ?? new Set<Socket>();
    byClient.set(client, mine.add(socket));
    socket.once('close', () => forget(socket));
    if (mine.size > limits.maxPerClient && !makeRoom(mine, socket, false) && mine.size > 2 * limits.maxPerClient) {
      makeRoom(mine, socket, true);
    }
    if (held.size > limits.maxConnections && !makeRoom(biggest(), socket, false) && held.size > 2 * limits.maxConnections) {
      makeRoom(biggest(), socket, true);
    }
  });

  server.on('request', (req, res) => {
    const h = held.get(req.socket);
    if (!h) return;
    h.busy++;
    res.once('close', () => {
      h.busy--;
    });
  });

  return () => held.size;
}
