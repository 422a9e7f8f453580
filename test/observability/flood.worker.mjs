// The attacker of probe-flood.test.ts, on a thread of its own (as a client on another machine
// would be): against 127.0.0.1:workerData.port it holds idle connections (from the probes' own
// address and from a hundred other loopback addresses), slowloris connections that drip a header
// line every 300 ms and reconnect at once when cut, connections that send requests and never read
// the answers, and a churn of new idle connections, until it is told to stop; then it reports how
// many connections it opened.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { port } = workerData;
const sockets = new Set();
let stopping = false;
let opened = 0;

function connect(from, act = () => {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
    opened++;
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    sock.once('connect', () => {
      act(sock);
      resolve(sock);
    });
    sock.once('close', () => resolve(sock));
  });
}

function slowloris(from) {
  if (stopping) return;
  void connect(from, (c) => {
    c.write('GET /metrics HTTP/1.1\r\n');
    const drip = setInterval(() => (c.writable ? c.write(`X-Slow-${Date.now()}: 1\r\n`) : clearInterval(drip)), 300);
    c.on('close', () => clearInterval(drip));
  }).then((sock) => (sock.destroyed ? slowloris(from) : sock.once('close', () => slowloris(from))));
}

await Promise.all(Array.from({ length: 700 }, () => connect('127.0.0.1')));
await Promise.all(Array.from({ length: 300 }, (_, i) => connect(`127.0.1.${1 + (i % 100)}`)));
for (let i = 0; i < 100; i++) slowloris('127.0.0.1');
await Promise.all(
  Array.from({ length: 50 }, () =>
    connect('127.0.2.1', (c) => {
      c.pause();
      for (let i = 0; i < 20; i++) c.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    }),
  ),
);
const churn = setInterval(() => {
  for (let i = 0; i < 10; i++) void connect(`127.0.3.${1 + (i % 10)}`);
}, 50);
parentPort.postMessage({ ready: true });
parentPort.once('message', () => {
  stopping = true;
  clearInterval(churn);
  for (const s of sockets) s.destroy();
  parentPort.postMessage({ opened });
});
